"""Collision-free map labels for matplotlib (static maps and report cards).

A small greedy leader-line layout, in the spirit of cartographic point labelling: labels are
placed one by one in priority order; each tries positions around its point (eight directions at
growing distances, the nearest first) and takes the first whose text box stays inside the axes
and overlaps neither an earlier label nor an obstacle (a marker, the legend, the scale bar).
A label set away from its point gets a thin leader line. A label that finds no free place is
dropped, unless it is required; a required label that finds none is reported back, never drawn
over another one. The layout works in display units, so it must run after the figure's layout
is final (axes position, limits, aspect); text is then placed in data units and the geometry
scales unchanged with the saving dpi.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Label", "place_labels", "overlapping_pairs"]

# unit directions, the usual cartographic preference first: NE, E, SE, N, S, NW, W, SW
_DIRECTIONS = np.array([(1, 1), (1, 0), (1, -1), (0, 1), (0, -1), (-1, 1), (-1, 0), (-1, -1)], dtype=float)


@dataclass
class Label:
    """One label: the point it names (data units), its text and text properties.

    ``radius_pt`` is the half-size of the symbol at the point, so the label clears it;
    ``required`` labels search farther and are reported when they cannot be placed; ``far``
    labels search farther too but are dropped quietly (default: as ``required``).
    """

    x: float
    y: float
    text: str
    props: dict = field(default_factory=dict)
    radius_pt: float = 3.0
    required: bool = False
    leader: dict | None = None
    far: bool | None = None


def _free(box: np.ndarray, placed: np.ndarray, pad: float) -> bool:
    if not len(placed):
        return True
    return not np.any((box[0] < placed[:, 2] + pad) & (box[2] + pad > placed[:, 0])
                      & (box[1] < placed[:, 3] + pad) & (box[3] + pad > placed[:, 1]))


def place_labels(ax, labels: list[Label], obstacles: list | None = None, pad_px: float | None = None,
                 steps_pt: tuple[float, ...] = (1, 4, 8), far_steps_pt: tuple[float, ...] = (14, 22, 32, 45, 62, 90, 125, 170)):
    """Place `labels` on `ax` without overlaps; returns ``(texts, missing)``: the drawn
    :class:`matplotlib.text.Text` objects and the required labels that found no place.

    `obstacles` are display-unit boxes (``(x0, y0, x1, y1)`` or matplotlib ``Bbox``) to keep clear.
    Every label tries the rings `steps_pt` away from its symbol [pt]; required labels also the
    farther rings `far_steps_pt`, with a leader line.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    pt = fig.dpi / 72.0
    pad = 1.5 * pt if pad_px is None else pad_px
    frame = ax.get_window_extent(renderer)
    placed = []
    for ob in obstacles or []:
        placed.append(tuple(ob.extents) if hasattr(ob, "extents") else tuple(ob))
    boxes = np.array(placed, dtype=float).reshape(-1, 4)
    to_data = ax.transData.inverted()
    texts, missing = [], []
    for lab in labels:
        px, py = ax.transData.transform((lab.x, lab.y))
        if not (frame.x0 <= px <= frame.x1 and frame.y0 <= py <= frame.y1):
            continue
        text = ax.text(0, 0, lab.text, ha="left", va="bottom", **lab.props)
        ext = text.get_window_extent(renderer)
        w, h = ext.width, ext.height
        steps = steps_pt + (far_steps_pt if (lab.required if lab.far is None else lab.far) else ())
        spot = None
        for step in steps:
            r = (lab.radius_pt + step) * pt
            for dx, dy in _DIRECTIONS:
                # the box touches the ring at distance r on the side facing the point
                ax_ = px + dx * r - w * (1 - dx) / 2
                ay_ = py + dy * r - h * (1 - dy) / 2
                box = np.array([ax_, ay_, ax_ + w, ay_ + h])
                if box[0] < frame.x0 or box[2] > frame.x1 or box[1] < frame.y0 or box[3] > frame.y1:
                    continue
                if _free(box, boxes, pad):
                    spot = (box, step)
                    break
            if spot is not None:
                break
        if spot is None:
            text.remove()
            if lab.required:
                missing.append(lab)
            continue
        box, step = spot
        text.set_position(to_data.transform((box[0], box[1])))
        boxes = np.vstack([boxes, box])
        texts.append(text)
        if step > 3 and lab.leader is not None:
            # leader from the symbol's edge to the nearest point of the text box
            tx = min(max(px, box[0]), box[2])
            ty = min(max(py, box[1]), box[3])
            vx, vy = tx - px, ty - py
            norm = float(np.hypot(vx, vy)) or 1.0
            sx, sy = px + vx / norm * lab.radius_pt * pt, py + vy / norm * lab.radius_pt * pt
            (x0, y0), (x1, y1) = to_data.transform([(sx, sy), (tx, ty)])
            ax.plot([x0, x1], [y0, y1], **lab.leader)
    return texts, missing


def overlapping_pairs(texts, renderer, pad_px: float = 0.0) -> list[tuple[str, str]]:
    """Pairs of texts whose window extents intersect (for tests and checks)."""
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    out = []
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            if (ba.x0 < bb.x1 + pad_px and bb.x0 < ba.x1 + pad_px
                    and ba.y0 < bb.y1 + pad_px and bb.y0 < ba.y1 + pad_px):
                out.append((a, b))
    return out
