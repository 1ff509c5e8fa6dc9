"""A small copy of a recorded episode: every dataset and attribute as recorded, frames cut to 4x4.

Damaged variants and fuzz seeds are made from it, so that dozens of them stay a few kB each.
"""
import h5py


def write_small_copy(source, destination):
    with h5py.File(source, "r") as src, h5py.File(destination, "w") as dst:
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        for key in src:
            if key != "observations":
                src.copy(key, dst)
        dst.create_group("observations")
        for key in src["observations"]:
            if key != "images":
                src.copy(f"observations/{key}", dst["observations"])
        for camera, frames in src["observations/images"].items():
            dst[f"observations/images/{camera}"] = frames[:, :4, :4, :]
