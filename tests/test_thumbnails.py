"""Thumbnails judged on their pixels: orientation, aspect, NaN handling, stretch."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from handlers.config import ThumbnailSettings
from handlers.fits.previews.images import block_mean, plan_thumbnail, reduce_image, render_png


def draw(image: np.ndarray, **settings: object) -> tuple[np.ndarray, dict]:
    """Plan, reduce and render ``image`` as the pipeline does; the PNG decoded to an array."""
    config = ThumbnailSettings(**settings)  # type: ignore[arg-type]
    plan = plan_thumbnail(image.shape, config)
    assert plan is not None
    reduced = reduce_image(lambda a, b: image[(*plan.plane, slice(a, b))], image.shape[-2], plan)
    png, preview = render_png(reduced, config)
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG"
    return np.asarray(picture), preview


def test_fits_row_zero_is_drawn_at_the_bottom() -> None:
    image = np.zeros((40, 60), dtype=np.float32)
    image[:5, :5] = 100.0  # FITS pixel (1, 1) corner: bottom-left on the sky
    pixels, _ = draw(image, interval="percentile", percentile=100.0)
    assert pixels.shape == (40, 60)
    assert pixels[-1, 0] == 255 and pixels[0, 0] == 0  # bottom-left bright, top-left dark
    assert pixels[-1, -1] == 0


def test_aspect_ratio_is_kept_when_reducing() -> None:
    image = np.arange(1000 * 3000, dtype=np.float32).reshape(1000, 3000)
    pixels, preview = draw(image, max_size=500)
    assert pixels.shape == (167, 500)
    assert (preview["width"], preview["height"]) == (500, 167)


def test_small_images_are_not_enlarged() -> None:
    pixels, preview = draw(np.ones((1, 1)))
    assert pixels.shape == (1, 1)
    pixels, _ = draw(np.arange(30000.0).reshape(3, 10000), max_size=512)
    assert pixels.shape == (1, 500)


def test_nan_pixels_are_transparent_and_do_not_move_the_limits() -> None:
    rng = np.random.default_rng(3)
    image = rng.normal(10.0, 1.0, size=(64, 64))
    image[:16, :16] = np.nan
    pixels, preview = draw(image)
    assert preview["mode"] == "LA" and pixels.shape == (64, 64, 2)
    alpha = pixels[..., 1][::-1]  # back to FITS row order
    assert (alpha[:16, :16] == 0).all()
    assert (alpha[16:, :] == 255).all() and (alpha[:, 16:] == 255).all()
    assert preview["nan_fraction"] == pytest.approx(256 / 4096)
    assert 5.0 < preview["vmin"] < 10.0 < preview["vmax"] < 15.0


def test_all_nan_and_constant_images_give_valid_pictures() -> None:
    pixels, preview = draw(np.full((20, 30), np.nan))
    assert pixels.shape == (20, 30, 2) and (pixels[..., 1] == 0).all()
    assert preview["vmin"] is None and preview["nan_fraction"] == 1.0
    pixels, preview = draw(np.full((20, 30), 7.0))
    assert pixels.shape == (20, 30) and (pixels == 128).all()
    assert preview["vmin"] == preview["vmax"] == 7.0


def test_linear_stretch_is_monotonic_and_clips_at_the_limits() -> None:
    ramp = np.tile(np.linspace(0.0, 1.0, 256), (8, 1))
    pixels, preview = draw(ramp, interval="percentile", percentile=90.0)
    row = pixels[0].astype(int)
    assert (np.diff(row) >= 0).all()
    assert row[0] == 0 and row[-1] == 255
    assert (row == 0).sum() > 5 and (row == 255).sum() > 5  # 5% clipped at each end
    assert preview["interval"] == "percentile" and preview["percentile"] == 90.0


def test_asinh_lifts_faint_values_above_linear() -> None:
    ramp = np.tile(np.linspace(0.0, 1.0, 101), (4, 1))
    linear, _ = draw(ramp, interval="percentile", percentile=100.0)
    asinh, preview = draw(ramp, interval="percentile", percentile=100.0, stretch="asinh")
    assert asinh[0, 10] > linear[0, 10] + 40
    assert preview["stretch_parameters"] == {"a": 0.1}


def test_zscale_limits_ignore_a_few_extreme_pixels() -> None:
    rng = np.random.default_rng(5)
    image = rng.normal(100.0, 5.0, size=(128, 128))
    image[64, 64] = 1e6  # a saturated star must not flatten the sky to black
    _, preview = draw(image)
    assert 60 < preview["vmin"] < 100 < preview["vmax"] < 150


def test_block_mean_averages_only_finite_pixels_of_each_tile() -> None:
    block = np.array([[1.0, 3.0, 5.0], [np.nan, 5.0, np.inf], [2.0, 2.0, 9.0]])
    reduced = block_mean(block, 2)
    assert reduced.shape == (2, 2)
    assert reduced[0, 0] == pytest.approx(3.0)  # (1 + 3 + 5) / 3
    assert reduced[0, 1] == pytest.approx(5.0)  # inf ignored
    assert reduced[1, 0] == pytest.approx(2.0) and reduced[1, 1] == pytest.approx(9.0)
    assert np.isnan(block_mean(np.full((2, 2), np.nan), 2)).all()


@pytest.mark.parametrize("dtype", [">f4", "<f8", ">i2"])
@pytest.mark.parametrize("with_nans", [False, True])
def test_block_mean_matches_each_tile_averaged_by_itself(dtype: str, with_nans: bool) -> None:
    """Big-endian FITS pixels and ragged edge tiles (11 x 13 by 4 x 3), exact to float64."""
    block = (np.random.default_rng(7).normal(100, 30, (11, 13))).astype(dtype)
    if with_nans and block.dtype.kind == "f":
        block[2, 1:3] = np.nan
        block[8:, 12] = np.nan  # the whole last column of the bottom-right tile
    reduced = block_mean(block, 3, rows_per_tile=4)
    expected = np.full((3, 5), np.nan)
    for ty in range(3):
        for tx in range(5):
            tile = block[ty * 4 : ty * 4 + 4, tx * 3 : tx * 3 + 3].astype(np.float64)
            if np.isfinite(tile).any():
                expected[ty, tx] = tile[np.isfinite(tile)].mean()
    np.testing.assert_allclose(reduced, expected, rtol=1e-12)  # NaN where expected is NaN, and only there
    assert np.isnan(reduced[2, 4]) == (with_nans and block.dtype.kind == "f")  # a tile with no finite pixel


def test_rows_are_read_in_bounded_blocks() -> None:
    image = np.ones((4096, 4096), dtype=np.float32)
    config = ThumbnailSettings(max_size=512, block_bytes=1024 * 1024)
    plan = plan_thumbnail(image.shape, config)
    assert plan is not None
    calls: list[tuple[int, int]] = []

    def read_rows(start: int, stop: int) -> np.ndarray:
        calls.append((start, stop))
        return image[start:stop]

    reduced = reduce_image(read_rows, 4096, plan)
    assert reduced.shape == (512, 512) and (reduced == 1.0).all()
    assert max(stop - start for start, stop in calls) * 4096 * 8 <= 1024 * 1024
    assert calls[0][0] == 0 and calls[-1][1] == 4096 and len(calls) == 4096 // plan.rows_per_block


def test_cube_plan_shows_the_middle_plane() -> None:
    plan = plan_thumbnail((5, 64, 48), ThumbnailSettings())
    assert plan is not None and plan.plane == (2,)
    cube = np.stack([np.full((64, 48), float(k)) for k in range(5)])
    cube[2, :8, :8] = 50.0
    pixels, _ = draw(cube, interval="percentile", percentile=100.0)
    assert pixels[-1, 0] == 255 and pixels[0, -1] == 0


def test_images_without_two_axes_are_not_drawn() -> None:
    assert plan_thumbnail((), ThumbnailSettings()) is None
    assert plan_thumbnail((100,), ThumbnailSettings()) is None
    assert plan_thumbnail((0, 10), ThumbnailSettings()) is None


def test_a_plane_over_the_pixel_budget_is_sampled_not_read_whole() -> None:
    image = np.zeros((2048, 1024), dtype=np.float32)
    image[:1024] = 10.0  # bottom half bright
    config = ThumbnailSettings(max_size=256, max_pixels=2048 * 1024 // 4)
    plan = plan_thumbnail(image.shape, config)
    assert plan is not None and (plan.factor, plan.rows_sampled) == (8, 2)
    rows_read: list[int] = []

    def read_rows(start: int, stop: int) -> np.ndarray:
        rows_read.extend(range(start, stop))
        return image[start:stop]

    reduced = reduce_image(read_rows, 2048, plan)
    assert len(rows_read) == 2048 // 4  # a quarter of the rows: the budget
    assert reduced.shape == (256, 128)
    assert (reduced[:128] == 10.0).all() and (reduced[128:] == 0.0).all()


def test_tick_runs_before_every_read() -> None:
    plan = plan_thumbnail((1000, 100), ThumbnailSettings(block_bytes=100 * 8 * 100))
    assert plan is not None
    ticks: list[int] = []
    reduce_image(lambda a, b: np.zeros((b - a, 100)), 1000, plan, tick=lambda: ticks.append(1))
    assert len(ticks) == 10
