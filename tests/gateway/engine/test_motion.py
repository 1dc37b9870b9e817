"""The motion check on landmarks: flat pictures vs a turning head."""
import math

import numpy as np
import pytest

from gateway.engine import motion as motion_math
from tests.conftest import face


@pytest.fixture(scope="module")
def landmarks(engine):
    return engine.analyze(face("obama_1.jpg")).faces[0].landmarks.astype(np.float64)


def _apply(h, points):
    return motion_math.project(h, points)


def test_homography_recovers_a_known_one(landmarks):
    h = np.array([[1.1, 0.05, 20], [-0.03, 0.95, -10], [1e-4, -2e-4, 1]])
    found = motion_math.homography(landmarks, _apply(h, landmarks))
    assert np.allclose(found, h / h[2, 2], atol=1e-6)


@pytest.mark.parametrize("h", [
    np.diag([1.0, 1.0, 1.0]),
    np.array([[0.8, 0.0, 30], [0.0, 0.8, 12], [0, 0, 1]]),  # zoom and move
    np.array([[0.97, -0.26, 50], [0.26, 0.97, -20], [0, 0, 1]]),  # rotate
    np.array([[1.0, 0.1, 0], [0.0, 1.0, 0], [4e-4, 3e-4, 1]]),  # tilted picture (perspective)
])
def test_a_flat_picture_shows_no_parallax(landmarks, h):
    m = motion_math.motion(landmarks, _apply(h, landmarks))
    assert m.parallax < 1e-6 and m.score < 0.01


def _turned(landmarks, degrees_yaw=0.0, degrees_pitch=0.0):
    """The landmarks of a head with a protruding nose, turned and projected."""
    centre = landmarks.mean(axis=0)
    depth = np.zeros(len(landmarks))
    depth[motion_math.NOSE_POINTS] = 0.6 * motion_math.eye_distance(landmarks)
    points = np.c_[landmarks - centre, depth]
    yaw, pitch = math.radians(degrees_yaw), math.radians(degrees_pitch)
    ry = np.array([[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]])
    rx = np.array([[1, 0, 0], [0, math.cos(pitch), -math.sin(pitch)], [0, math.sin(pitch), math.cos(pitch)]])
    return (points @ (rx @ ry).T)[:, :2] + centre


def test_a_turning_head_shows_parallax_and_its_direction(landmarks):
    # Positive yaw here moves the nose towards the picture's right: the person's left.
    to_persons_left = motion_math.motion(_turned(landmarks), _turned(landmarks, degrees_yaw=20))
    assert to_persons_left.score > 0.5 and to_persons_left.parallax > motion_math.PARALLAX_THRESHOLD
    assert abs(to_persons_left.direction - 180) < 30
    assert motion_math.follows_challenge(to_persons_left, "left")
    assert not motion_math.follows_challenge(to_persons_left, "right")
    # Positive pitch here moves the nose up in the picture: the head tilts up.
    up = motion_math.motion(_turned(landmarks), _turned(landmarks, degrees_pitch=20))
    assert abs(up.direction - 90) < 30 and motion_math.follows_challenge(up, "up")


def test_a_tiny_movement_does_not_answer_a_challenge(landmarks):
    m = motion_math.motion(_turned(landmarks), _turned(landmarks, degrees_yaw=2))
    assert not motion_math.follows_challenge(m, "left")
