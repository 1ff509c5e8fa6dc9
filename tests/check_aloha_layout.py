"""Reads a Flywheel episode with h5py, a reader none of us wrote, the way ALOHA's and ACT's code does."""
import sys

import h5py
import numpy as np

CAMERAS = ["cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist"]


def main(path: str) -> None:
    with h5py.File(path, "r") as root:
        # ACT's utils.py: is_sim = root.attrs['sim']; original_action_shape = root['/action'].shape
        assert isinstance(root.attrs["sim"], (bool, np.bool_)), type(root.attrs["sim"])
        assert bool(root.attrs["sim"]) is True
        action = root["/action"]
        steps, joints = action.shape
        assert joints == 14, action.shape
        assert steps > 0
        for key in ["/observations/qpos", "/observations/qvel", "/observations/effort", "/action"]:
            data = root[key]
            assert data.shape == (steps, 14), (key, data.shape)
            assert data.dtype == np.float64, (key, data.dtype)
            assert np.all(np.isfinite(data[()])), key
        start_ts = steps // 2
        qpos = root["/observations/qpos"][start_ts]
        assert qpos.shape == (14,)
        compressed = bool(root.attrs.get("compress", False))
        if compressed:  # ALOHA's compressed layout: zero-padded JPEG rows, lengths in /compress_len
            lengths = root["/compress_len"]
            assert lengths.shape == (len(CAMERAS), steps) and lengths.dtype == np.float32, lengths
        for index, cam in enumerate(CAMERAS):
            images = root[f"/observations/images/{cam}"]
            assert images.dtype == np.uint8, (cam, images.dtype)
            if compressed:
                assert images.ndim == 2 and images.shape[0] == steps, (cam, images.shape)
                row = images[start_ts]
                length = int(root["/compress_len"][index, start_ts])
                assert 1000 < length <= images.shape[1], (cam, length)
                assert row[0] == 0xFF and row[1] == 0xD8, f"{cam}: no JPEG start"
                assert row[length - 2] == 0xFF and row[length - 1] == 0xD9, f"{cam}: no JPEG end"
                assert not row[length:].any(), f"{cam}: padding is not zeros"
            else:
                assert images.shape == (steps, 480, 640, 3), (cam, images.shape)
                frame = images[start_ts]
                assert frame.std() > 5.0, f"{cam} frame {start_ts} is blank"
        timestamps = root["/timestamp"][()]
        assert timestamps.shape == (steps,)
        assert np.all(np.diff(timestamps) > 0), "timestamps must increase"
        assert isinstance(root.attrs["task"], str) and root.attrs["task"], root.attrs["task"]
        assert float(root.attrs["fps"]) == 50.0
        assert "name: sim-aloha" in root.attrs["rig_config"]
        assert root.attrs["software_version"].startswith("flywheel ")
        assert bool(root.attrs["complete"]) is True
    layout = "compressed" if compressed else "raw"
    print(f"{path}: ALOHA {layout} layout OK ({steps} steps, 14 joints, {len(CAMERAS)} cameras)")


if __name__ == "__main__":
    main(sys.argv[1])
