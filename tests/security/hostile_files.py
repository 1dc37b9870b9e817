"""Hostile files, made here: small to send, expensive to decode.

* scan_bomb: a large grey progressive JPEG followed by thousands of AC
  refinement scans that hold nothing but end-of-band runs (a few dozen bytes
  each): the decoder passes over every block of the image for each of them.
* mixed_size_clip: a video whose header (and first frames) are small and whose
  later frames are huge (codecs where every frame stands alone: PNG, MJPEG).
* small_face_in_the_middle: a person beside the centre and a smaller face of
  someone else in the middle (a poster, a photo held up): the wrong primary.
* crowd: hundreds of copies of one real face on a picture (every face found
  used to be analysed, and small ones each detected again in a window).
* cropped_h264_clip: an H.264 clip coded large whose SPS crops every frame to a
  few pixels: FFmpeg's frame size (and its max_pixels) is the cropped one.
"""
from __future__ import annotations

import io
import struct
from fractions import Fraction

import av
import numpy as np
from av.bitstream import BitStreamFilterContext
from PIL import Image

from tests.conftest import face


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _entropy_coded(bits: str) -> bytes:
    bits += "1" * (-len(bits) % 8)  # padded with 1-bits, as the standard says
    out = bytearray()
    for i in range(0, len(bits), 8):
        out.append(int(bits[i:i + 8], 2))
        if out[-1] == 0xFF:
            out.append(0)  # byte stuffing
    return bytes(out)


def _empty_refinement_scan(blocks: int, component: int) -> bytes:
    """An AC refinement scan (Ss=1, Se=63, Ah=1, Al=0) of end-of-band runs over all `blocks`: with the table
    below, symbol EOBr (r << 4) is the 4-bit code r, followed by r bits: a run of 2**r + those bits blocks."""
    bits = []
    while blocks:
        run = min(blocks, (1 << 15) - 1)
        r = run.bit_length() - 1
        bits.append(format(r, "04b") + (format(run - (1 << r), f"0{r}b") if r else ""))
        blocks -= run
    return _segment(0xDA, bytes([1, component, 0x00, 1, 63, 0x10])) + _entropy_coded("".join(bits))


def scan_bomb(side: int = 6320, scans: int = 4000) -> bytes:
    """The issue's file: 6320x6320 grey, progressive, then `scans` empty scans (4000: about 400 KB)."""
    buffer = io.BytesIO()
    Image.new("L", (side, side), 128).save(buffer, "JPEG", progressive=True, quality=90)
    image = buffer.getvalue()
    assert image.endswith(b"\xff\xd9")
    blocks = ((side + 7) // 8) ** 2
    table = _segment(0xC4, bytes([0x10, 0, 0, 0, 15] + [0] * 12 + [r << 4 for r in range(15)]))  # AC table 0
    return image[:-2] + table + _empty_refinement_scan(blocks, component=1) * scans + image[-2:]


def mixed_size_clip(codec: str, container: str, big: int, small: int = 64, small_frames: int = 2,
                    big_frames: int = 2) -> bytes:
    """`small_frames` frames of small x small, as the header says, then `big_frames` of big x big, all in one
    stream (each frame encoded on its own, so every packet decodes to the size it was made with)."""
    pix_fmt = {"png": "gray", "mjpeg": "yuvj420p"}[codec]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as output:
        stream = output.add_stream(codec, rate=10)
        stream.width = stream.height = small
        stream.pix_fmt = pix_fmt
        large = av.CodecContext.create(codec, "w")
        large.width = large.height = big
        large.pix_fmt = pix_fmt
        large.time_base = Fraction(1, 10)
        if codec == "mjpeg":
            for encoder in (stream.codec_context, large):
                encoder.qmin = encoder.qmax = 31  # the lowest quality: a flat frame in a few kilobytes
        for number in range(small_frames + big_frames):
            side, encoder = (small, stream.codec_context) if number < small_frames else (big, large)
            frame = av.VideoFrame.from_ndarray(np.full((side, side, 3), 120, np.uint8), format="rgb24")
            frame = frame.reformat(format=pix_fmt)
            frame.pts, frame.time_base = number, Fraction(1, 10)
            for packet in encoder.encode(frame):
                packet.stream, packet.pts, packet.dts, packet.time_base = stream, number, number, Fraction(1, 10)
                output.mux(packet)
        for encoder in (stream.codec_context, large):
            for packet in encoder.encode():
                packet.stream = stream
                output.mux(packet)
    return buffer.getvalue()


def _head(name: str, box: tuple[int, int, int, int], face_width: int) -> Image.Image:
    """The head of a fixture photo's face (`box`, as YuNet finds it) with some margin, the face `face_width` wide."""
    left, top, right, bottom = box
    margin = (right - left) // 4
    photo = Image.open(io.BytesIO(face(name))).convert("RGB").crop(
        (left - margin, top - margin, right + margin, bottom + margin))
    scale = face_width / (right - left)
    return photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.Resampling.LANCZOS)


def small_face_in_the_middle(width: int = 1600, height: int = 1000) -> bytes:
    """Biden's face, 300 px wide, a third of the way across; Obama's, 130 px, at the centre."""
    canvas = Image.new("RGB", (width, height), (128, 128, 128))
    for name, box, face_width, centre_x in (("biden_1.jpg", (426, 174, 716, 579), 300, width // 3),
                                            ("obama_1.jpg", (369, 91, 611, 421), 130, width // 2)):
        head = _head(name, box, face_width)
        canvas.paste(head, (centre_x - head.width // 2, height // 2 - head.height // 2))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def crowd(width: int, height: int, face_width: int, pitch: int) -> tuple[bytes, int]:
    """A JPEG of copies of obama_1.jpg's face (its head and some margin), `face_width` px wide, every `pitch` px
    on grey; and how many copies it holds."""
    head = _head("obama_1.jpg", (369, 91, 611, 421), face_width)
    canvas = Image.new("RGB", (width, height), (128, 128, 128))
    count = 0
    for top in range(pitch // 4, height - head.height, pitch):
        for left in range(pitch // 4, width - head.width, pitch):
            canvas.paste(head, (left, top))
            count += 1
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=90)
    return buffer.getvalue(), count


def cropped_h264_clip(width: int, height: int, shown: int | None = 16, frames: int = 4) -> bytes:
    """H.264 in MPEG-TS, coded at width x height, its SPS cropping each frame to shown x shown (None: as the
    encoder codes it, whole macroblocks cropped to width x height)."""
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = Fraction(1, 10)
    encoder.options = {"preset": "ultrafast", "crf": "51"}
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mpegts") as output:
        stream = output.add_stream("h264", rate=10)
        stream.width, stream.height = (width, height) if shown is None else (shown, shown)
        crop = shown and BitStreamFilterContext(
            f"h264_metadata=crop_right={width - shown}:crop_bottom={height - shown}", stream)
        packets = []
        for number in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((height, width, 3), 120, np.uint8), format="rgb24")
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = number, Fraction(1, 10)
            packets += encoder.encode(frame)
        for packet in [*packets, *encoder.encode()]:
            for cropped in crop.filter(packet) if crop else [packet]:
                cropped.stream = stream
                output.mux(cropped)
    return buffer.getvalue()
