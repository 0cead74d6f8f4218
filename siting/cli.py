"""Command-line interface: ``siting layers`` (inventory, schema, checking a user file)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click

from .errors import SitingError, SitingWarning
from .schema import LAYER_NAMES


def _fail(exc: BaseException) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="siting")
def main() -> None:
    """siting: where in the Netherlands an AI gigafactory can connect and be built."""


@main.command()
@click.option("--check", "check_path", type=click.Path(path_type=Path), default=None,
              help="Validate this file as layer --layer (with the embedded layers for references).")
@click.option("--layer", "layer_name", type=click.Choice(LAYER_NAMES), default=None,
              help="Layer name the checked file stands for.")
@click.option("--crs", default=None, help="CRS to assume when the checked file has none, e.g. EPSG:28992.")
@click.option("--layer-set", type=click.Path(path_type=Path), default=None,
              help="TOML layer set replacing embedded layers.")
@click.option("--schema", "show_schema", is_flag=True, help="Print the layer schema (Markdown) and exit.")
def layers(check_path: Path | None, layer_name: str | None, crs: str | None,
           layer_set: Path | None, show_schema: bool) -> None:
    """Inventory of the layers (rows, geometry, CRS, source, date), or check a user file."""
    from .layers import LayerSource, load_layers
    from .schema import schema_markdown

    if show_schema:
        click.echo(schema_markdown())
        return
    if (check_path is None) != (layer_name is None):
        _fail(SitingError("--check and --layer go together: siting layers --check FILE --layer NAME"))
    overrides = {}
    if check_path is not None:
        overrides[layer_name] = LayerSource(path=check_path, crs=crs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SitingWarning)
        try:
            loaded = load_layers(layer_set, **overrides)
        except SitingError as exc:
            _fail(exc)
        except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback
            _fail(SitingError(f"unexpected failure while loading layers: {type(exc).__name__}: {exc}"))
    for w in caught:
        if issubclass(w.category, SitingWarning):
            click.echo(f"warning: {w.message}", err=True)
    if check_path is not None:
        gdf = loaded[layer_name]
        click.echo(f"ok: '{check_path}' is a valid '{layer_name}' layer: {len(gdf)} rows, "
                   f"{', '.join(sorted(set(gdf.geom_type)))}, reprojected to {gdf.crs.to_string()}")
        return
    inv = loaded.inventory()
    click.echo(inv.to_string(index=False))


if __name__ == "__main__":  # pragma: no cover
    main()
