// libFuzzer target: an episode file someone else wrote is untrusted. Each input is
//  1. decoded as a label slot (zero-padded JSON) on its raw bytes, and
//  2. turned into an HDF5 file built in memory (the core driver, no disk) whose layout the input chooses:
//     which of the episode's datasets exist, their rank, dimensions (up to 2^40 rows, never allocated),
//     element type and bytes; /annotations as a group or a dataset, slots and `current` of any shape; root
//     attributes of any type, size and value. The validator and summary then run on that image, as
//     `flywheel list` does: a problem is reported, never a crash, an overflow or a read past a buffer.
// HDF5 1.10 itself crashes on some corrupt byte streams (a global-heap length, found by feeding it raw
// images): set FLYWHEEL_FUZZ_RAW_IMAGES=1 to fuzz raw images too; CTest fuzzes what we own.
#include <fuzzer/FuzzedDataProvider.h>
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "recorder/episode_reader.hpp"
#include "recorder/h5.hpp"
#include "recorder/labels.hpp"

namespace {

using namespace flywheel;

hid_t pickType(FuzzedDataProvider& in) {
  static const hid_t types[] = {H5T_NATIVE_DOUBLE, H5T_NATIVE_FLOAT, H5T_NATIVE_UINT8, H5T_NATIVE_INT8,
                                H5T_NATIVE_INT32,  H5T_NATIVE_INT64, H5T_NATIVE_UINT16};
  const int which = in.ConsumeIntegralInRange<int>(0, 8);
  if (which < 7) return H5Tcopy(types[which]);
  hid_t text = H5Tcopy(H5T_C_S1);
  H5Tset_size(text, which == 7 ? H5T_VARIABLE : in.ConsumeIntegralInRange<std::size_t>(1, 64));
  return text;
}

// Writes `count` elements of `type` from the input (strings as input text), when small enough to hold.
template <typename Write>
void fill(FuzzedDataProvider& in, hid_t type, hsize_t count, Write write) {
  if (count == 0 || count > 4096) return;
  if (H5Tis_variable_str(type) > 0) {
    std::vector<std::string> texts;
    std::vector<const char*> pointers;
    for (hsize_t i = 0; i < count; ++i)
      texts.push_back(in.ConsumeRandomLengthString(64));
    for (const std::string& t : texts)
      pointers.push_back(t.c_str());
    write(pointers.data());
    return;
  }
  std::vector<std::uint8_t> bytes = in.ConsumeBytes<std::uint8_t>(count * H5Tget_size(type));
  bytes.resize(count * H5Tget_size(type), 0);
  write(bytes.data());
}

void makeDataset(FuzzedDataProvider& in, hid_t file, const char* path, int rows) {
  if (in.ConsumeIntegralInRange<int>(0, 9) == 0) return;  // missing
  const int rank = in.ConsumeIntegralInRange<int>(0, 9) < 7 ? 2 : in.ConsumeIntegralInRange<int>(0, 4);
  std::vector<hsize_t> dims(rank), chunk(rank);
  for (int d = 0; d < rank; ++d) {
    dims[d] = d == 0 && in.ConsumeIntegralInRange<int>(0, 7) ? rows : in.ConsumeIntegralInRange<int>(0, 8);
    if (d == 0 && in.ConsumeIntegralInRange<int>(0, 30) == 0)
      dims[d] = hsize_t{1} << in.ConsumeIntegralInRange<int>(20, 40);
    chunk[d] = std::max<hsize_t>(1, std::min<hsize_t>(dims[d], 4));
  }
  h5::Handle type = h5::type(pickType(in));
  h5::Handle space = h5::space(rank ? H5Screate_simple(rank, dims.data(), nullptr) : H5Screate(H5S_SCALAR));
  h5::Handle dcpl = h5::plist(H5Pcreate(H5P_DATASET_CREATE));
  if (rank > 0) H5Pset_chunk(dcpl, rank, chunk.data());
  h5::Handle lcpl = h5::plist(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl, 1);
  h5::Handle ds = h5::dataset(H5Dcreate2(file, path, type, space, lcpl, dcpl, H5P_DEFAULT));
  if (!ds.valid()) return;
  hsize_t count = 1;
  for (hsize_t d : dims)
    count = d > 4096 ? 4097 : count * d;
  fill(in, type, count, [&](const void* data) { H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data); });
}

void makeAttribute(FuzzedDataProvider& in, hid_t file, const char* name) {
  if (in.ConsumeBool()) return;
  h5::Handle type = h5::type(pickType(in));
  const hsize_t count = in.ConsumeIntegralInRange<int>(0, 3) ? 1 : in.ConsumeIntegralInRange<int>(0, 5);
  h5::Handle space =
      h5::space(in.ConsumeBool() ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, nullptr));
  h5::Handle attribute = h5::attribute(H5Acreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
  if (!attribute.valid()) return;
  const hssize_t points = H5Sget_simple_extent_npoints(space);
  fill(in, type, static_cast<hsize_t>(points), [&](const void* data) { H5Awrite(attribute, type, data); });
}

std::vector<std::uint8_t> buildImage(FuzzedDataProvider& in) {
  h5::Handle access = h5::plist(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fapl_core(access, 1 << 16, 0);
  h5::Handle file = h5::file(H5Fcreate("fuzz-built.hdf5", H5F_ACC_TRUNC, H5P_DEFAULT, access));
  if (!file.valid()) return {};
  const int rows = in.ConsumeIntegralInRange<int>(0, 6);
  for (const char* path :
       {"/action", "/observations/qpos", "/observations/qvel", "/timestamp", "/intervention",
        "/observations/images/top", "/observations/image_timestamps/top", "/compress_len"})
    makeDataset(in, file, path, rows);
  if (in.ConsumeBool()) {
    makeDataset(in, file, "/annotations/current", 1);
    for (const char* slot : {"/annotations/slot_a", "/annotations/slot_b"}) {
      if (!in.ConsumeBool()) {
        makeDataset(in, file, slot, static_cast<int>(kLabelSlotBytes));
        continue;
      }
      const hsize_t size = kLabelSlotBytes;  // the shape a save expects; the JSON comes from the input
      h5::Handle space = h5::space(H5Screate_simple(1, &size, nullptr));
      h5::Handle ds =
          h5::dataset(H5Dcreate2(file, slot, H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
      std::string json = in.ConsumeRandomLengthString(512);
      json.resize(kLabelSlotBytes, '\0');
      if (ds.valid()) H5Dwrite(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, json.data());
    }
  }
  for (const char* name : {"task", "fps", "complete", "success", "compress", "sim", "operator", "tags"})
    makeAttribute(in, file, name);
  H5Fflush(file, H5F_SCOPE_GLOBAL);
  const ssize_t size = H5Fget_file_image(file, nullptr, 0);
  if (size <= 0) return {};
  std::vector<std::uint8_t> image(static_cast<std::size_t>(size));
  H5Fget_file_image(file, image.data(), image.size());
  return image;
}

void validate(const std::uint8_t* data, std::size_t size) {
  try {
    EpisodeReader reader(data, size, "fuzz.hdf5");
    EpisodeSummary summary = reader.summary();
    try {
      readLabelsOf(reader.file());
    } catch (const RecorderError&) {
    }
    if (summary.problem.empty()) {
      if (reader.readDoubles("/observations/qpos").size() != summary.ticks * summary.joints) __builtin_trap();
      for (const CameraSummary& camera : summary.cameras)
        if (camera.frames > 0) reader.readFrame(camera.name, camera.frames - 1);
    }
  } catch (const RecorderError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  h5::quietErrors();
  try {
    EpisodeLabels labels = decodeLabelSlot(data, size);
    if (EpisodeLabels::fromJson(labels.toJson()) != labels) __builtin_trap();  // a round trip
  } catch (const RecorderError&) {
  }
  static const bool raw = std::getenv("FLYWHEEL_FUZZ_RAW_IMAGES") != nullptr;
  if (raw && size >= 8 && std::string(reinterpret_cast<const char*>(data), 8) == "\x89HDF\r\n\x1a\n")
    validate(data, size);
  FuzzedDataProvider in(data, size);
  std::vector<std::uint8_t> image = buildImage(in);
  if (!image.empty()) validate(image.data(), image.size());
  return 0;
}
