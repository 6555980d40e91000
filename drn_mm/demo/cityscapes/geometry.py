"""Geometry of the demo scenes: a pin-hole camera over a flat street, polygons, templates."""
from typing import List, Sequence, Tuple

import numpy as np

from .labels import LABELS


class _Camera:
    """Pin-hole camera ``height`` metres above a flat ground plane, looking along +Z.

    A world point (X right, Y up from the ground, Z forward), in metres, projects to
    ``x = xv + f * X / Z``, ``y = yh + f * (height - Y) / Z`` (pixels; ``yh`` is the horizon row,
    ``xv`` the vanishing column).
    """

    def __init__(self, f: float, xv: float, yh: float, height: float = 1.5):
        self.f, self.xv, self.yh, self.height = f, xv, yh, height

    def project(self, X: float, Y: float, Z: float) -> Tuple[float, float]:
        return self.xv + self.f * X / Z, self.yh + self.f * (self.height - Y) / Z

    def scale(self, metres: float, Z: float) -> float:
        """Size in pixels of ``metres`` seen at depth ``Z``."""
        return self.f * metres / Z


def _clip_polygon(points: Sequence[Tuple[float, float]], w: int, h: int) -> List[List[float]]:
    """Clip a polygon to the image rectangle [0, w-1] x [0, h-1] (Sutherland-Hodgman)."""
    edges = ((0, 0.0, True), (0, w - 1.0, False), (1, 0.0, True), (1, h - 1.0, False))
    out = [list(map(float, p)) for p in points]
    for axis, bound, keep_greater in edges:
        if not out:
            break
        src, out = out, []
        for i, cur in enumerate(src):
            prev = src[i - 1]
            cur_in = cur[axis] >= bound if keep_greater else cur[axis] <= bound
            prev_in = prev[axis] >= bound if keep_greater else prev[axis] <= bound
            if cur_in != prev_in:
                t = (bound - prev[axis]) / (cur[axis] - prev[axis])
                cross = [prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1])]
                cross[axis] = bound
                out.append(cross)
            if cur_in:
                out.append(cur)
    return out


def _convex_hull(points: Sequence[Tuple[float, float]]) -> List[Tuple[float, float]]:
    """Convex hull (Andrew's monotone chain), counter-clockwise, without repeated points."""
    pts = sorted(set((float(x), float(y)) for x, y in points))
    if len(pts) < 3:
        return pts

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


class _Object:
    """One polygon of the annotation plus the attributes its texture needs."""

    __slots__ = ('label', 'polygon', 'attrs')

    def __init__(self, label: str, polygon: List[List[int]], attrs: dict):
        self.label, self.polygon, self.attrs = label, polygon, attrs


class _Scene:
    """The polygons of one image, in drawing order (later objects on top)."""

    def __init__(self, h: int, w: int, cam: _Camera):
        self.h, self.w, self.cam = h, w, cam
        self.objects: List[_Object] = []
        self.attrs: dict = {}

    def add(self, label: str, points: Sequence[Tuple[float, float]], **attrs) -> bool:
        """Clip ``points`` (pixels, float) to the image, round them and append the polygon.

        Returns whether anything of it is inside the image.
        """
        if label not in LABELS:
            raise KeyError(f'unknown Cityscapes label {label!r}; valid: {sorted(LABELS)}')
        clipped = _clip_polygon(points, self.w, self.h)
        if len(clipped) < 3:
            return False
        rounded = [[int(round(x)), int(round(y))] for x, y in clipped]
        deduped = [p for i, p in enumerate(rounded) if p != rounded[i - 1]]
        self.objects.append(_Object(label, deduped if len(deduped) >= 3 else rounded, attrs))
        return True

    def add_world(self, label: str, points3d: Sequence[Tuple[float, float, float]], **attrs):
        """Project world points (X, Y, Z) and add their polygon (in the given vertex order)."""
        return self.add(label, [self.cam.project(*p) for p in points3d], **attrs)

    def add_hull(self, label: str, points3d: Sequence[Tuple[float, float, float]], **attrs):
        """Add the convex hull of the projected world points (a box's silhouette)."""
        return self.add(label, _convex_hull([self.cam.project(*p) for p in points3d]), **attrs)


def _box(x0, x1, y0, y1, z0, z1):
    return [(x, y, z) for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)]


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _color(rng: np.random.Generator, base: Sequence[float], jitter: float) -> Tuple[float, ...]:
    return tuple(
        float(c) for c in np.clip(np.asarray(base) + rng.uniform(-jitter, jitter, 3), 0, 255))


# Silhouette templates: (u, v) with u in [-0.5, 0.5] of the width, v in [0, 1] of the height above
# the ground (v = 0 at the feet / wheels).
_PERSON = ((-0.32, 0.0), (-0.08, 0.0), (0.0, 0.4), (0.08, 0.0), (0.32, 0.0), (0.3, 0.5),
           (0.5, 0.56), (0.44, 0.8), (0.2, 0.84), (0.16, 0.88), (0.16, 0.96), (0.08, 1.0), (-0.08,
                                                                                            1.0),
           (-0.16, 0.96), (-0.16, 0.88), (-0.2, 0.84), (-0.44, 0.8), (-0.5, 0.56), (-0.3, 0.5))
_RIDER = ((-0.3, 0.0), (-0.12, 0.0), (-0.1, 0.3), (0.3, 0.35), (0.5, 0.62), (0.36, 0.7),
          (0.14, 0.78), (0.12, 0.9), (0.06, 1.0), (-0.1, 1.0), (-0.16, 0.9), (-0.18, 0.78),
          (-0.36, 0.6), (-0.34, 0.35))
_BICYCLE = ((-0.5, 0.0), (-0.22, 0.0), (-0.1, 0.32), (0.1, 0.32), (0.22, 0.0), (0.5, 0.0),
            (0.5, 0.45), (0.36, 0.62), (0.3, 1.0), (0.16, 1.0), (0.02, 0.58), (-0.22, 0.86),
            (-0.36, 0.86), (-0.3, 0.62), (-0.5, 0.45))
_MOTORCYCLE = ((-0.5, 0.0), (-0.2, 0.0), (-0.1, 0.2), (0.1, 0.2), (0.2, 0.0), (0.5, 0.0),
               (0.5, 0.5), (0.34, 0.7), (0.3, 1.0), (0.18, 1.0), (0.1, 0.75), (-0.3, 0.72), (-0.5,
                                                                                             0.5))


def _template(cam: _Camera, tpl, X: float, Z: float, width: float, height: float, base: float = 0.0,
              mirror: bool = False):
    """Image points of a silhouette template standing at (X, base, Z), size in metres."""
    xc, yb = cam.project(X, base, Z)
    pw, ph = cam.scale(width, Z), cam.scale(height, Z)
    sign = -1.0 if mirror else 1.0
    return [(xc + sign * u * pw, yb - v * ph) for u, v in tpl]


def _regular_polygon(xc, yc, radius, n, phase=0.0, jitter=None):
    angles = phase + 2 * np.pi * np.arange(n) / n
    radii = np.full(n, radius) if jitter is None else radius * jitter
    return [(xc + r * np.cos(a), yc + r * np.sin(a)) for a, r in zip(angles, radii)]
