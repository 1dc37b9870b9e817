"""Active liveness from motion: is the change between two views of a face that
of a three-dimensional head, or of a flat picture?

A photo or a screen moved, tilted or zoomed in front of the camera keeps every
landmark on one plane, so one homography maps the landmarks of the first view
onto the second. A real head that turns does not: the nose sticks out of the
plane of the face outline, eyes and mouth, and moves differently (parallax).
So: fit the homography on the (roughly planar) outline, eye and mouth corners,
and measure how far the nose lands from where the homography puts it, in eye
distances. Identical or near-identical images show no parallax at all.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# 68-point landmarks (iBUG 300-W).
PLANE_POINTS = list(range(0, 17)) + [36, 39, 42, 45, 48, 54]
NOSE_POINTS = [29, 30, 31, 32, 33, 34, 35]
_RIGHT_EYE, _LEFT_EYE, _NOSE_TIP, _CHIN = slice(36, 42), slice(42, 48), 30, 8
# Parallax (nose deviation / eye distance) at which motion_liveness_score is 0.5.
PARALLAX_THRESHOLD = 0.06
# A face that moves less than this (displacement, in eye distances, about 1 cm) over a clip gives motion nothing
# to judge: a still head and a still picture look alike. bench/video_liveness.py: the picture clips the project
# makes move 0.19 (a print of a turning head) to 0.66; a face held still with 2 px of jitter 0.06 to 0.17.
STILL_DISPLACEMENT = 0.15
# Head-pose change needed for a challenge (fraction of the face width/height).
MIN_CHALLENGE_TURN = 0.04
DIRECTIONS = {"right": 0.0, "up": 90.0, "left": 180.0, "down": 270.0}


@dataclass(frozen=True)
class Motion:
    parallax: float  # nose deviation from the face plane's homography, in eye distances
    score: float  # motion_liveness_score in [0, 1): 0 for no parallax, 0.5 at the threshold
    direction: float  # degrees the head turned: 0 right, 90 up, 180 left, 270 down (the person's view)
    turn: float  # how far the head pose changed


def _normalizer(points: np.ndarray) -> np.ndarray:
    centre = points.mean(axis=0)
    scale = math.sqrt(2) / max(float(np.mean(np.linalg.norm(points - centre, axis=1))), 1e-9)
    return np.array([[scale, 0, -scale * centre[0]], [0, scale, -scale * centre[1]], [0, 0, 1]])


def homography(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 3x3 homography mapping source points onto target points (normalised DLT, least squares)."""
    ts, tt = _normalizer(source), _normalizer(target)
    s = (ts @ np.c_[source, np.ones(len(source))].T).T
    t = (tt @ np.c_[target, np.ones(len(target))].T).T
    rows = []
    for (x, y, _), (u, v, _) in zip(s, t):
        rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
        rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
    _, _, vt = np.linalg.svd(np.asarray(rows))
    h = np.linalg.inv(tt) @ vt[-1].reshape(3, 3) @ ts
    return h / h[2, 2]


def project(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    p = (h @ np.c_[points, np.ones(len(points))].T).T
    return p[:, :2] / p[:, 2:]


def eye_distance(landmarks: np.ndarray) -> float:
    return float(np.linalg.norm(landmarks[_LEFT_EYE].mean(axis=0) - landmarks[_RIGHT_EYE].mean(axis=0)))


def parallax(first: np.ndarray, second: np.ndarray) -> float:
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    h = homography(first[PLANE_POINTS], second[PLANE_POINTS])
    deviation = project(h, first[NOSE_POINTS]) - second[NOSE_POINTS]
    return float(np.sqrt(np.mean(np.sum(deviation ** 2, axis=1)))) / max(eye_distance(second), 1e-9)


def displacement(first: np.ndarray, second: np.ndarray) -> float:
    """How far the face moved in the picture: the RMS shift of the face-plane landmarks, in eye distances
    (translation, rotation and zoom count; landmark jitter on identical frames is about 0.01)."""
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    shift = first[PLANE_POINTS] - second[PLANE_POINTS]
    return float(np.sqrt(np.mean(np.sum(shift ** 2, axis=1)))) / max(eye_distance(first), 1e-9)


def head_pose(landmarks: np.ndarray) -> tuple[float, float]:
    """(yaw, pitch) proxies in picture coordinates: the nose tip's offset from
    the middle of the face, as a fraction of the face's width and height."""
    landmarks = np.asarray(landmarks, np.float64)
    left, right = landmarks[0], landmarks[16]
    width = max(float(np.linalg.norm(right - left)), 1e-9)
    eyes_y = (landmarks[_RIGHT_EYE, 1].mean() + landmarks[_LEFT_EYE, 1].mean()) / 2
    height = max(float(landmarks[_CHIN, 1] - eyes_y), 1e-9)
    yaw = (landmarks[_NOSE_TIP, 0] - (left[0] + right[0]) / 2) / width
    pitch = (landmarks[_NOSE_TIP, 1] - (eyes_y + landmarks[_CHIN, 1]) / 2) / height
    return float(yaw), float(pitch)


def motion(first: np.ndarray, second: np.ndarray, threshold: float = PARALLAX_THRESHOLD) -> Motion:
    p = parallax(first, second)
    (yaw1, pitch1), (yaw2, pitch2) = head_pose(first), head_pose(second)
    # A person turning to their own left moves the nose towards the picture's
    # right; directions are given as the person (and a mirrored preview) sees them.
    dx, dy = -(yaw2 - yaw1), -(pitch2 - pitch1)
    direction = math.degrees(math.atan2(dy, dx)) % 360.0
    return Motion(p, p / (p + threshold), direction, math.hypot(dx, dy))


def follows_challenge(m: Motion, tag: str) -> bool:
    """The head moved the way the tag asks: within 45 degrees, and far enough."""
    wanted = DIRECTIONS[tag]
    difference = abs((m.direction - wanted + 180.0) % 360.0 - 180.0)
    return difference <= 45.0 and m.turn >= MIN_CHALLENGE_TURN
