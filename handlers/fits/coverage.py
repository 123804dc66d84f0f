"""Pure: where an image's pixels fall on the sky, maps of the whole sky or of much of it included.

A small image is its four corners.  A wide one (a CAR, AIT or MOL map, an HPX image) is not:
its corners may be off the sky (astropy's ``calc_footprint`` gives NaN there) and its edges are
no great circles.  Its outline is traced through a grid of samples of its pixel edges, along the
pixels that are on the sky, and a map that holds every direction is said to (``all_sky``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

#: An image that spans more degrees than this along a pixel axis is traced rather than cornered.
WIDE_DEGREES = 10.0
#: Samples along each pixel axis of a wide image (its outline has at most four times as many vertices).
OUTLINE_SAMPLES = 36
#: Directions spread evenly over the sphere (about 2 degrees apart) that a map of the whole sky holds.
SKY_DIRECTIONS = 10_000
#: The whole sphere in square degrees: a map whose projection plane is smaller cannot hold it.
_SPHERE_DEG2 = 4 * math.pi * math.degrees(1) ** 2
#: Vertices closer than this (radians) are one (a map's edge along a pole is one point).
_SAME_POINT = 1e-9


@dataclass(frozen=True)
class Coverage:
    #: (lon, lat) of the image's central pixel (the on-sky sample nearest it where it is off the sky).
    centre: list[float]
    #: The outline's vertices (lon, lat) in pixel order, as ``calc_footprint`` orders corners;
    #: empty where the image holds the whole sky or spans every longitude (no polygon describes a band).
    footprint: list[list[float]]
    all_sky: bool


def coverage(celestial: Any, lengths: list[int], lonlat: list[int], scale: Any) -> Coverage | None:
    """The coverage of a 2-axis celestial WCS over ``lengths`` pixels; None when no pixel is on the sky.

    ``lonlat``: the indices of the longitude and latitude among its world axes;
    ``scale``: its pixel scales (degrees) along the pixel axes.
    """
    centre = celestial.all_pix2world([[(n - 1) / 2 for n in lengths]], 0)[0][lonlat]
    extent = [n * float(s) for n, s in zip(lengths, scale, strict=True)]
    if max(extent) <= WIDE_DEGREES:
        corners = celestial.calc_footprint(axes=lengths, center=False)[:, lonlat]  # outer edges of the corner pixels
        if np.isfinite(corners).all() and np.isfinite(centre).all():
            return Coverage(centre.tolist(), corners.tolist(), False)
    edges = [np.linspace(-0.5, n - 0.5, OUTLINE_SAMPLES + 1) for n in lengths]
    x, y = np.meshgrid(*edges)  # rows of constant y
    world = celestial.all_pix2world(np.column_stack([x.ravel(), y.ravel()]), 0)[:, lonlat].reshape(*x.shape, 2)
    on_sky = np.isfinite(world).all(axis=-1)
    if not on_sky.any():
        return None
    if not np.isfinite(centre).all():
        rows, columns = np.nonzero(on_sky)
        nearest = np.argmin((rows - OUTLINE_SAMPLES / 2) ** 2 + (columns - OUTLINE_SAMPLES / 2) ** 2)
        centre = world[rows[nearest], columns[nearest]]
    if math.prod(extent) >= 0.9 * _SPHERE_DEG2 and _holds_every_direction(celestial, lengths, lonlat):
        return Coverage(centre.tolist(), [], True)
    return Coverage(centre.tolist(), _outline(world, on_sky), False)


def _outline(world: Any, on_sky: Any) -> list[list[float]]:
    """The vertices around the on-sky samples: up the low-x side, along the top row, down the
    high-x side and back along the bottom row (the on-sky part of a projection is convex along rows).
    """
    rows = [j for j in range(len(on_sky)) if on_sky[j].any()]
    first = {j: int(np.argmax(on_sky[j])) for j in rows}
    last = {j: len(on_sky[j]) - 1 - int(np.argmax(on_sky[j][::-1])) for j in rows}
    low_side = [world[j, first[j]] for j in rows]
    high_side = [world[j, last[j]] for j in reversed(rows)]
    if all(_separation(a, b) < _SAME_POINT for a, b in zip(low_side, reversed(high_side), strict=True)):
        return []  # both sides are one meridian: the image goes all the way round
    bottom, top = rows[0], rows[-1]
    top_row = [world[top, i] for i in range(first[top], last[top] + 1) if on_sky[top, i]]
    bottom_row = [world[bottom, i] for i in range(last[bottom], first[bottom] - 1, -1) if on_sky[bottom, i]]
    vertices: list[Any] = []
    for point in (*low_side, *top_row, *high_side, *bottom_row):
        if not vertices or _separation(vertices[-1], point) >= _SAME_POINT:
            vertices.append(point)
    if len(vertices) > 1 and _separation(vertices[0], vertices[-1]) < _SAME_POINT:
        vertices.pop()
    return [[float(lon), float(lat)] for lon, lat in vertices]


def _holds_every_direction(celestial: Any, lengths: list[int], lonlat: list[int]) -> bool:
    """Whether each of ``SKY_DIRECTIONS`` directions falls within the image's pixels."""
    world = np.zeros((SKY_DIRECTIONS, 2))
    world[:, lonlat] = _directions()
    pixels = celestial.wcs_world2pix(world, 0)
    with np.errstate(invalid="ignore"):
        inside = (pixels >= -0.5) & (pixels <= np.array(lengths) - 0.5)
    return bool(inside.all())


@cache
def _directions() -> Any:
    """(lon, lat) degrees of a Fibonacci lattice on the sphere: equal areas, no two points alike."""
    index = np.arange(SKY_DIRECTIONS) + 0.5
    lat = np.degrees(np.arcsin(1 - 2 * index / SKY_DIRECTIONS))
    lon = np.degrees(np.pi * (1 + math.sqrt(5)) * index) % 360
    return np.column_stack([lon, lat])


def _separation(a: Any, b: Any) -> float:
    """The angle (radians) between two (lon, lat) directions in degrees."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    chord = math.hypot(math.cos(lat1) * math.cos(lon1) - math.cos(lat2) * math.cos(lon2),
                       math.cos(lat1) * math.sin(lon1) - math.cos(lat2) * math.sin(lon2),
                       math.sin(lat1) - math.sin(lat2))
    return 2 * math.asin(min(1.0, chord / 2))
