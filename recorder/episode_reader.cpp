#include "recorder/episode_reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/utf8.hpp"
#include "recorder/h5.hpp"

#include <opencv2/imgcodecs.hpp>

namespace flywheel {

namespace {

constexpr std::size_t kMaxDatasets = 10000;
constexpr hssize_t kMaxValues = hssize_t{1} << 28;  // 2 GiB of doubles: more than any episode holds

herr_t collectDataset(hid_t object, const char* name, const H5O_info_t* info, void* out) {
  auto* list = static_cast<std::vector<DatasetShape>*>(out);
  if (list->size() >= kMaxDatasets) return 1;  // stops the visit; checkLayout reports it
  if (info->type == H5O_TYPE_DATASET) {
    h5::Handle ds = h5::dataset(H5Dopen2(object, name, H5P_DEFAULT));
    if (!ds.valid()) return 0;
    DatasetShape shape{std::string("/") + name, {}, h5::typeName(ds)};
    for (hsize_t d : h5::shapeOf(ds))
      shape.shape.push_back(d);
    list->push_back(shape);
  }
  return 0;
}

std::string shapeText(const std::vector<unsigned long long>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

bool numericType(const std::string& dtype) {
  return dtype.starts_with("float") || dtype.starts_with("int") || dtype.starts_with("uint") ||
         dtype == "bool";
}

const DatasetShape* find(const std::vector<DatasetShape>& datasets, const std::string& path) {
  for (const DatasetShape& d : datasets)
    if (d.path == path) return &d;
  return nullptr;
}

}  // namespace

std::string printable(std::string text) {
  const bool utf8 = utf8Problem(text).empty();
  for (char& c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F || (!utf8 && byte >= 0x80)) c = '?';
  }
  return text;
}

EpisodeReader::EpisodeReader(const std::string& path) : path_(path) {
  h5::quietErrors();
  if (!std::filesystem::exists(path)) throw RecorderError(path + ": no such file");
  if (!std::filesystem::is_regular_file(path)) throw RecorderError(path + ": not a file");
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw RecorderError(path + ": not an HDF5 file (damaged or another format)");
  try {
    file_ = h5::openExisting(path, H5F_ACC_RDONLY).release();
  } catch (const h5::BusyError& e) {
    throw EpisodeBusy(e.what());
  } catch (const h5::Error& e) {
    throw RecorderError(path + ": cannot be opened (damaged HDF5 file)");
  }
  if (H5Lexists(file_, "action", H5P_DEFAULT) <= 0 || H5Lexists(file_, "observations", H5P_DEFAULT) <= 0) {
    H5Fclose(file_);
    throw RecorderError(path + ": not an episode (no /action or /observations)");
  }
}

EpisodeReader::EpisodeReader(const void* image, std::size_t size, const std::string& name) : path_(name) {
  h5::quietErrors();
  h5::Handle access = h5::plist(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fapl_core(access, 1 << 16, 0);  // in memory, never written back
  if (size == 0 || H5Pset_file_image(access, const_cast<void*>(image), size) < 0)
    throw RecorderError(name + ": not an HDF5 file image");
  try {
    file_ = h5::openExisting(name, H5F_ACC_RDONLY, access).release();
  } catch (const h5::Error&) {
    throw RecorderError(name + ": cannot be opened (damaged HDF5 file)");
  }
  if (H5Lexists(file_, "action", H5P_DEFAULT) <= 0 || H5Lexists(file_, "observations", H5P_DEFAULT) <= 0) {
    H5Fclose(file_);
    throw RecorderError(name + ": not an episode (no /action or /observations)");
  }
}

EpisodeReader::~EpisodeReader() {
  H5Fclose(file_);
}

// The layout ACT and ALOHA read: /action [T, J], /observations/qpos [T, J], every other per-tick dataset
// T rows, numbers where numbers belong, frames [T, H, W, 3] bytes (or JPEG rows [T, N]). Fills ticks and
// joints; sets `problem` to the first thing that is wrong.
void EpisodeReader::checkLayout(EpisodeSummary& s) const {
  auto fail = [&](const std::string& why) {
    if (s.problem.empty()) s.problem = why;
  };
  if (s.datasets.size() >= kMaxDatasets) return fail("more than 10000 datasets");
  const DatasetShape* action = find(s.datasets, "/action");
  const DatasetShape* qpos = find(s.datasets, "/observations/qpos");
  if (!action) return fail("no dataset /action");
  if (!qpos) return fail("no dataset /observations/qpos");
  for (const DatasetShape* d : {action, qpos}) {
    if (d->shape.size() != 2)
      return fail(d->path + " is " + shapeText(d->shape) + ", expected [ticks, joints]");
    if (!numericType(d->dtype) || d->dtype == "bool")
      return fail(d->path + " holds " + d->dtype + ", not numbers");
  }
  const unsigned long long ticks = action->shape[0], joints = action->shape[1];
  if (ticks > kMaxTicks)
    return fail("/action claims " + std::to_string(ticks) + " ticks, more than any recording");
  if (joints == 0 || joints > kMaxJoints) return fail("/action has " + std::to_string(joints) + " joints");
  if (qpos->shape[1] != joints)
    return fail("/observations/qpos has " + std::to_string(qpos->shape[1]) + " joints, /action " +
                std::to_string(joints));
  s.ticks = ticks;
  s.joints = joints;
  const std::string images = "/observations/images/";
  for (const DatasetShape& d : s.datasets) {
    const bool perTick = d.path.starts_with("/observations/") || d.path == "/timestamp" ||
                         d.path == "/intervention" || d.path.starts_with("/policy");
    if (!perTick) continue;
    if (d.shape.empty() || d.shape[0] != ticks)
      return fail(d.path + " is " + shapeText(d.shape) + ", expected " + std::to_string(ticks) +
                  " rows like /action");
    if (d.path.starts_with(images)) {
      const bool raw = d.shape.size() == 4 && d.shape[3] == 3 && d.shape[1] > 0 && d.shape[2] > 0 &&
                       d.shape[1] <= kMaxImageSide && d.shape[2] <= kMaxImageSide;
      const bool jpegRows = s.jpeg && d.shape.size() == 2 && d.shape[1] <= (64ull << 20);
      if (!raw && !jpegRows)
        return fail(d.path + " is " + shapeText(d.shape) + ", expected [ticks, height, width, 3]" +
                    (s.jpeg ? " or JPEG rows [ticks, bytes]" : ""));
      if (d.dtype != "uint8") return fail(d.path + " holds " + d.dtype + ", expected uint8");
    } else if (!numericType(d.dtype)) {
      return fail(d.path + " holds " + d.dtype + ", not numbers");
    }
  }
  if (!std::isfinite(s.fps) || s.fps < 0 || s.fps > 100000) fail("fps attribute is " + std::to_string(s.fps));
}

EpisodeSummary EpisodeReader::summary() const {
  EpisodeSummary s;
  s.path = path_;
  try {
    auto text = [&](const char* name) {
      return h5::hasAttribute(file_, name) ? h5::readStringAttribute(file_, name) : "";
    };
    s.task = text("task");
    s.rigName = text("rig_name");
    s.softwareVersion = text("software_version");
    s.startTime = text("start_time");
    s.operatorName = text("operator");
    s.tags = text("tags");
    s.jpeg = h5::hasAttribute(file_, "compress") && h5::readBoolAttribute(file_, "compress");
    s.sim = h5::hasAttribute(file_, "sim") && h5::readBoolAttribute(file_, "sim");
    s.fps = h5::hasAttribute(file_, "fps") ? h5::readDoubleAttribute(file_, "fps") : 0.0;
    s.complete = h5::hasAttribute(file_, "complete") && h5::readBoolAttribute(file_, "complete");
    s.stopReason = text("stop_reason");
    if (h5::hasAttribute(file_, "success")) s.success = h5::readBoolAttribute(file_, "success");
  } catch (const h5::Error& e) {
    s.problem = e.what();
  }
  H5Ovisit(file_, H5_INDEX_NAME, H5_ITER_INC, collectDataset, &s.datasets);
  checkLayout(s);
  if (!s.problem.empty()) {
    s.ticks = s.joints = 0;
    s.problem = printable(s.problem);
    return s;
  }
  try {
    const std::string prefix = "/observations/images/";
    for (const DatasetShape& d : s.datasets) {
      if (!d.path.starts_with(prefix)) continue;
      CameraSummary cam{d.path.substr(prefix.size()), d.shape[0], 0, 0};
      if (d.shape.size() == 4) {
        cam.height = static_cast<int>(d.shape[1]);
        cam.width = static_cast<int>(d.shape[2]);
      } else if (cam.frames > 0) {
        Image first = readFrame(cam.name, 0);  // a JPEG row knows its size only once decoded
        cam.height = first.height;
        cam.width = first.width;
      }
      const std::string stamps = "/observations/image_timestamps/" + cam.name;
      if (find(s.datasets, stamps)) {
        auto captureTimes = readDoubles(stamps);
        for (std::size_t i = 1; i < captureTimes.size(); ++i)
          if (captureTimes[i] == captureTimes[i - 1]) ++cam.repeatedFrames;
      }
      s.cameras.push_back(cam);
    }
    if (find(s.datasets, "/intervention")) {
      auto flags = readDoubles("/intervention");
      for (std::size_t i = 0; i < flags.size(); ++i)
        if (flags[i] != 0.0 && (i == 0 || flags[i - 1] == 0.0)) ++s.interventions;
    }
    if (find(s.datasets, "/timestamp")) {
      auto stamps = readDoubles("/timestamp");
      if (stamps.size() > 1) s.measuredDuration = stamps.back() - stamps.front();
    }
  } catch (const std::exception& e) {
    s.problem = e.what();
  }
  s.problem = printable(s.problem);
  return s;
}

std::vector<double> EpisodeReader::readDoubles(const std::string& name) const {
  h5::Handle ds = h5::dataset(H5Dopen2(file_, name.c_str(), H5P_DEFAULT));
  if (!ds.valid()) throw RecorderError(path_ + ": no dataset " + name);
  h5::DatasetInfo info;
  try {
    info = h5::datasetInfo(ds);
  } catch (const h5::Error& e) {
    throw RecorderError(path_ + ": " + name + ": " + e.what());
  }
  if (!info.numeric()) throw RecorderError(path_ + ": " + name + " is " + info.describe() + ", not numbers");
  if (info.elements > kMaxValues) throw RecorderError(path_ + ": " + name + " is too large to read");
  std::vector<double> values(static_cast<std::size_t>(info.elements));
  if (!values.empty() && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
    throw RecorderError(path_ + ": cannot read " + name + " (damaged)");
  return values;
}

std::vector<PolicySource> EpisodeReader::readPolicySources() const {
  const char* name = "/policy_source";
  if (H5Lexists(file_, "policy_source", H5P_DEFAULT) <= 0) return {};
  unsigned long long ticks = 0;  // /action's rows
  if (h5::Handle action = h5::dataset(H5Dopen2(file_, "action", H5P_DEFAULT)); action.valid()) try {
      if (auto shape = h5::datasetInfo(action).shape; !shape.empty()) ticks = shape[0];
    } catch (const h5::Error&) {
    }
  h5::Handle ds = h5::dataset(H5Dopen2(file_, name, H5P_DEFAULT));
  if (!ds.valid()) throw RecorderError(path_ + ": " + name + " is not a dataset");
  h5::DatasetInfo info;
  try {
    info = h5::datasetInfo(ds);
  } catch (const h5::Error& e) {
    throw RecorderError(path_ + ": " + name + ": " + e.what());
  }
  if ((info.kind != H5T_INTEGER && info.kind != H5T_ENUM) || info.shape.size() != 1 || info.shape[0] != ticks)
    throw RecorderError(path_ + ": " + name + " is " + info.describe() + ", expected [" +
                        std::to_string(ticks) + "] sources like /action's rows");
  std::vector<int> values(static_cast<std::size_t>(info.elements));
  if (info.kind == H5T_ENUM) {
    // HDF5 converts an enum only to an enum: read it as its own (native) type, whatever names it carries.
    if (info.elementBytes != 1) throw RecorderError(path_ + ": " + name + " is not a 1-byte enum");
    h5::Handle fileType = h5::type(H5Dget_type(ds));
    h5::Handle memType = h5::type(H5Tget_native_type(fileType, H5T_DIR_ASCEND));
    std::vector<std::uint8_t> raw(values.size());
    if (!raw.empty() && H5Dread(ds, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
      throw RecorderError(path_ + ": cannot read " + name + " (damaged)");
    values.assign(raw.begin(), raw.end());
  } else if (!values.empty() &&
             H5Dread(ds, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0) {
    throw RecorderError(path_ + ": cannot read " + name + " (damaged)");
  }
  std::vector<PolicySource> sources;
  sources.reserve(values.size());
  for (std::size_t t = 0; t < values.size(); ++t) {
    if (values[t] < 0 || values[t] > static_cast<int>(PolicySource::Human))
      throw RecorderError(path_ + ": " + name + " holds " + std::to_string(values[t]) + " at tick " +
                          std::to_string(t) + ": not none (0), main (1), fallback (2) or human (3)");
    sources.push_back(static_cast<PolicySource>(values[t]));
  }
  return sources;
}

Image EpisodeReader::readFrame(const std::string& camera, std::size_t tick) const {
  const std::string name = "/observations/images/" + camera;
  h5::Handle ds = h5::dataset(H5Dopen2(file_, name.c_str(), H5P_DEFAULT));
  if (!ds.valid()) throw RecorderError(path_ + ": no camera '" + camera + "'");
  h5::DatasetInfo info;
  try {
    info = h5::datasetInfo(ds);
  } catch (const h5::Error& e) {
    throw RecorderError(path_ + ": " + name + ": " + e.what());
  }
  if (info.kind != H5T_INTEGER || info.elementBytes != 1)
    throw RecorderError(path_ + ": " + name + " is " + info.describe() + ", expected bytes");
  const auto& shape = info.shape;
  if (shape.size() == 2 && shape[1] <= (64ull << 20)) return readJpegFrame(ds, camera, tick, shape);
  if (shape.size() != 4 || shape[3] != 3 || shape[1] == 0 || shape[2] == 0 || shape[1] > kMaxImageSide ||
      shape[2] > kMaxImageSide)
    throw RecorderError(path_ + ": " + name + " is not [T,H,W,3]");
  if (tick >= shape[0]) throw RecorderError(path_ + ": " + name + " has no frame " + std::to_string(tick));
  h5::Handle fileSpace = h5::space(H5Dget_space(ds));
  hsize_t start[4] = {tick, 0, 0, 0}, count[4] = {1, shape[1], shape[2], 3};
  H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nullptr, count, nullptr);
  h5::Handle memSpace = h5::space(H5Screate_simple(4, count, nullptr));
  Image image;
  image.height = static_cast<int>(shape[1]);
  image.width = static_cast<int>(shape[2]);
  std::shared_ptr<std::uint8_t[]> pixels(new std::uint8_t[image.byteSize()]);
  if (H5Dread(ds, H5T_NATIVE_UINT8, memSpace, fileSpace, H5P_DEFAULT, pixels.get()) < 0)
    throw RecorderError(path_ + ": cannot read frame " + std::to_string(tick) + " of " + camera);
  image.pixels = std::move(pixels);
  return image;
}

// ALOHA's compressed layout: a zero-padded JPEG per row, decoded the way its loader does (cv2.imdecode).
Image EpisodeReader::readJpegFrame(long long dataset, const std::string& camera, std::size_t tick,
                                   const std::vector<unsigned long long>& shape) const {
  if (tick >= shape[0])
    throw RecorderError(path_ + ": camera " + camera + " has no frame " + std::to_string(tick));
  h5::Handle fileSpace = h5::space(H5Dget_space(dataset));
  hsize_t start[2] = {tick, 0}, count[2] = {1, shape[1]};
  H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nullptr, count, nullptr);
  h5::Handle memSpace = h5::space(H5Screate_simple(2, count, nullptr));
  std::vector<std::uint8_t> row(shape[1]);
  if (!row.empty() && H5Dread(dataset, H5T_NATIVE_UINT8, memSpace, fileSpace, H5P_DEFAULT, row.data()) < 0)
    throw RecorderError(path_ + ": cannot read frame " + std::to_string(tick) + " of " + camera);
  cv::Mat decoded;
  try {
    decoded = row.empty() ? cv::Mat() : cv::imdecode(row, cv::IMREAD_COLOR);
  } catch (const cv::Exception&) {
  }
  if (decoded.empty() || decoded.cols > static_cast<int>(kMaxImageSide) ||
      decoded.rows > static_cast<int>(kMaxImageSide))
    throw RecorderError(path_ + ": frame " + std::to_string(tick) + " of " + camera + " is not a JPEG");
  Image image;
  image.width = decoded.cols;
  image.height = decoded.rows;
  image.pixels =
      std::shared_ptr<const std::uint8_t[]>(decoded.data, [keep = decoded](const std::uint8_t*) {});
  return image;
}

std::string EpisodeReader::rigConfigText() const {
  return h5::hasAttribute(file_, "rig_config") ? h5::readStringAttribute(file_, "rig_config") : "";
}

}  // namespace flywheel
