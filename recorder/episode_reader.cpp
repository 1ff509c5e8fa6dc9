#include "recorder/episode_reader.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "recorder/h5.hpp"

#include <opencv2/imgcodecs.hpp>

namespace flywheel {

namespace {

herr_t collectDataset(hid_t object, const char* name, const H5O_info_t* info, void* out) {
  if (info->type == H5O_TYPE_DATASET) {
    auto* list = static_cast<std::vector<DatasetShape>*>(out);
    h5::Handle ds = h5::dataset(H5Dopen2(object, name, H5P_DEFAULT));
    if (!ds.valid()) return 0;
    DatasetShape shape{std::string("/") + name, {}, h5::typeName(ds)};
    for (hsize_t d : h5::shapeOf(ds))
      shape.shape.push_back(d);
    list->push_back(shape);
  }
  return 0;
}

}  // namespace

EpisodeReader::EpisodeReader(const std::string& path) : path_(path) {
  h5::quietErrors();
  if (!std::filesystem::exists(path)) throw RecorderError(path + ": no such file");
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw RecorderError(path + ": not an HDF5 file (damaged or another format)");
  file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file_ < 0) throw RecorderError(path + ": cannot be opened (damaged HDF5 file)");
  if (H5Lexists(file_, "action", H5P_DEFAULT) <= 0 || H5Lexists(file_, "observations", H5P_DEFAULT) <= 0) {
    H5Fclose(file_);
    throw RecorderError(path + ": not an episode (no /action or /observations)");
  }
}

EpisodeReader::~EpisodeReader() {
  H5Fclose(file_);
}

EpisodeSummary EpisodeReader::summary() const {
  EpisodeSummary s;
  s.path = path_;
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
  if (h5::hasAttribute(file_, "success")) s.success = h5::readBoolAttribute(file_, "success");

  H5Ovisit(file_, H5_INDEX_NAME, H5_ITER_INC, collectDataset, &s.datasets);
  for (const DatasetShape& d : s.datasets) {
    if (d.path == "/action" && d.shape.size() == 2) {
      s.ticks = d.shape[0];
      s.joints = d.shape[1];
    }
    const std::string prefix = "/observations/images/";
    const bool rawFrames = d.shape.size() == 4, jpegRows = d.shape.size() == 2 && s.jpeg;
    if (d.path.starts_with(prefix) && (rawFrames || jpegRows)) {
      CameraSummary cam{d.path.substr(prefix.size()), d.shape[0], 0, 0};
      if (rawFrames) {
        cam.height = static_cast<int>(d.shape[1]);
        cam.width = static_cast<int>(d.shape[2]);
      } else if (cam.frames > 0) {
        Image first = readFrame(cam.name, 0);  // a JPEG row knows its size only once decoded
        cam.height = first.height;
        cam.width = first.width;
      }
      const std::string stamps = "/observations/image_timestamps/" + cam.name;
      if (H5Lexists(file_, stamps.c_str(), H5P_DEFAULT) > 0) {
        auto captureTimes = readDoubles(stamps);
        for (std::size_t i = 1; i < captureTimes.size(); ++i)
          if (captureTimes[i] == captureTimes[i - 1]) ++cam.repeatedFrames;
      }
      s.cameras.push_back(cam);
    }
  }
  if (H5Lexists(file_, "intervention", H5P_DEFAULT) > 0) {
    auto flags = readDoubles("/intervention");
    for (std::size_t i = 0; i < flags.size(); ++i)
      if (flags[i] != 0.0 && (i == 0 || flags[i - 1] == 0.0)) ++s.interventions;
  }
  if (H5Lexists(file_, "timestamp", H5P_DEFAULT) > 0) {
    auto stamps = readDoubles("/timestamp");
    if (stamps.size() > 1) s.measuredDuration = stamps.back() - stamps.front();
  }
  return s;
}

std::vector<double> EpisodeReader::readDoubles(const std::string& name) const {
  h5::Handle ds = h5::dataset(H5Dopen2(file_, name.c_str(), H5P_DEFAULT));
  if (!ds.valid()) throw RecorderError(path_ + ": no dataset " + name);
  std::size_t count = 1;
  for (hsize_t d : h5::shapeOf(ds))
    count *= d;
  std::vector<double> values(count);
  if (count > 0 && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
    throw RecorderError(path_ + ": cannot read " + name + " (damaged)");
  return values;
}

Image EpisodeReader::readFrame(const std::string& camera, std::size_t tick) const {
  const std::string name = "/observations/images/" + camera;
  h5::Handle ds = h5::dataset(H5Dopen2(file_, name.c_str(), H5P_DEFAULT));
  if (!ds.valid()) throw RecorderError(path_ + ": no camera '" + camera + "'");
  auto shape = h5::shapeOf(ds);
  if (shape.size() == 2) return readJpegFrame(ds, camera, tick, shape);
  if (shape.size() != 4 || shape[3] != 3) throw RecorderError(path_ + ": " + name + " is not [T,H,W,3]");
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
  if (H5Dread(dataset, H5T_NATIVE_UINT8, memSpace, fileSpace, H5P_DEFAULT, row.data()) < 0)
    throw RecorderError(path_ + ": cannot read frame " + std::to_string(tick) + " of " + camera);
  cv::Mat decoded = cv::imdecode(row, cv::IMREAD_COLOR);
  if (decoded.empty())
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
