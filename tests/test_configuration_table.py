"""The README's table of environment variables states config.py's defaults, not a copy that can drift."""

from __future__ import annotations

import re

import pytest

from handlers.config import DeploymentSettings, LimitSettings, ReadSettings, Settings, ThumbnailSettings

from .support import ROOT

#: Each variable of the table and the setting it sets (the defaults live in the dataclasses).
SETTINGS = {
    "THUMBNAIL_MAX_SIZE": ThumbnailSettings.max_size,
    "THUMBNAIL_MIN_SIZE": ThumbnailSettings.min_size,
    "THUMBNAIL_INTERVAL": ThumbnailSettings.interval,
    "THUMBNAIL_PERCENTILE": ThumbnailSettings.percentile,
    "THUMBNAIL_STRETCH": ThumbnailSettings.stretch,
    "THUMBNAIL_BLOCK_BYTES": ThumbnailSettings.block_bytes,
    "MAX_THUMBNAIL_PIXELS": ThumbnailSettings.max_pixels,
    "MAX_TILE_BYTES": ThumbnailSettings.max_tile_bytes,
    "PREVIEW_READ_BYTES": ThumbnailSettings.read_bytes,
    "READ_AHEAD_BYTES": ReadSettings.read_ahead,
    "READ_WHOLE_OBJECT_BYTES": ReadSettings.whole_object,
    "READ_PART_BYTES": ReadSettings.part_bytes,
    "READ_CONCURRENCY": ReadSettings.concurrency,
    "BATCH_CONCURRENCY": Settings.batch_concurrency,
    "MAX_OBJECT_BYTES": LimitSettings.max_object_bytes,
    "MAX_DECOMPRESSED_BYTES": LimitSettings.max_decompressed_bytes,
    "MAX_HEADER_CARDS": LimitSettings.max_header_cards,
    "MAX_FILE_CARDS": LimitSettings.max_file_cards,
    "MAX_DOCUMENT_BYTES": LimitSettings.max_document_bytes,
    "MAX_HDUS": LimitSettings.max_hdus,
    "MAX_THUMBNAILS": LimitSettings.max_thumbnails,
    "TIME_RESERVE_SECONDS": LimitSettings.time_reserve_s,
    "OBSCORE_PUBLISHER_DID": DeploymentSettings.publisher_did,
    "OBSCORE_ACCESS_URL": DeploymentSettings.access_url,
    "OBSCORE_COLLECTION": DeploymentSettings.collection,
    "OBSCORE_CALIB_LEVEL": DeploymentSettings.calib_level,
}


def readme_defaults() -> dict[str, str]:
    section = (ROOT / "README.md").read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \| (?:`([^`]*)`|(unset)) \|", section, re.M)
    return {name: default or unset for name, default, unset in rows}


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_the_readme_states_the_default_of(name: str) -> None:
    default = SETTINGS[name]
    documented = readme_defaults().get(name)
    assert documented is not None, f"README's Configuration table lacks {name}"
    if default is None:  # a setting that is off unless set
        assert documented == "unset"
    else:
        assert float(documented) == default if isinstance(default, float) else documented == str(default)


def test_every_documented_setting_is_read_from_the_environment() -> None:
    source = (ROOT / "handlers" / "config.py").read_text()
    for name in SETTINGS:
        assert f'"{name}"' in source, f"{name} is documented but config.py never reads it"
