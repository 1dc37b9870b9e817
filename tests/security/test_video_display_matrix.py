"""A clip's display matrix is the sender's to write: whatever nine numbers it holds (zeros, a 45 degree turn,
huge scales, every sign flipped), decoding gives the stored frame turned by quarter turns or mirrored, never an
error or a frame of another size."""
import io

import av
import numpy as np
import pytest
from PIL import Image

from gateway.engine.video import decode_frames, display_matrix
from tests.e2e.media import video

ONE = 1 << 16  # 16.16 fixed point
MATRICES = {
    "zeros": (0,) * 9,
    "45 degrees": (46341, 46341, 0, -46341, 46341, 0, 0, 0, 1 << 30),
    "huge scale": (0, 2 ** 31 - 1, 0, -(2 ** 31), 0, 0, 0, 0, 1 << 30),
    "every sign flipped": (-ONE, -ONE, -ONE, -ONE, -ONE, -ONE, -ONE, -ONE, -ONE),
}


@pytest.mark.parametrize("matrix", MATRICES.values(), ids=MATRICES.keys())
def test_any_display_matrix_decodes_to_the_stored_frame_turned_or_mirrored(matrix):
    clip = video([Image.new("RGB", (96, 64), (90, 120, 150))] * 2, display_matrix=matrix)
    with av.open(io.BytesIO(clip)) as container:
        assert display_matrix(next(container.decode(video=0))) == matrix  # the decoder hands it over as written
    for _, pixels in decode_frames(clip):
        assert pixels.shape in ((64, 96, 3), (96, 64, 3)) and pixels.flags["C_CONTIGUOUS"]
        assert np.abs(pixels.astype(int) - (90, 120, 150)).max() < 8
