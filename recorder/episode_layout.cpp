// Creates ALOHA's datasets and attributes in a new episode file and appends a batch of ticks to them.
#include "recorder/episode_layout.hpp"

#include <ctime>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "recorder/labels.hpp"

namespace flywheel {

namespace {

constexpr hsize_t kStateChunkRows = 256;

// An extendible [0, cols...] dataset chunked along time.
h5::Handle createExtendible(hid_t parent, const std::string& name, hid_t fileType,
                            std::vector<hsize_t> rowShape, hsize_t chunkRows, bool compress) {
  std::vector<hsize_t> dims{0}, maxDims{H5S_UNLIMITED}, chunk{chunkRows};
  for (hsize_t d : rowShape) {
    dims.push_back(d);
    maxDims.push_back(d);
    chunk.push_back(d);
  }
  h5::Handle space = h5::space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxDims.data()));
  h5::Handle dcpl = h5::plist(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
  if (compress) {  // joint data compresses well and losslessly; images stay raw as ALOHA stores them
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 4);
  }
  return h5::dataset(
      h5::check(H5Dcreate2(parent, name.c_str(), fileType, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                "create dataset " + name));
}

// JPEG rows: [T, P] with P growing to the longest frame so far; unwritten bytes read as the zero padding.
h5::Handle createJpegRows(hid_t parent, const std::string& name) {
  hsize_t dims[2] = {0, 0}, maxDims[2] = {H5S_UNLIMITED, H5S_UNLIMITED}, chunk[2] = {1, 16384};
  h5::Handle space = h5::space(H5Screate_simple(2, dims, maxDims));
  h5::Handle dcpl = h5::plist(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl, 2, chunk);
  return h5::dataset(
      h5::check(H5Dcreate2(parent, name.c_str(), H5T_STD_U8LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                "create dataset " + name));
}

h5::Handle createCompressLength(hid_t file, std::size_t cameras) {
  hsize_t dims[2] = {cameras, 0}, maxDims[2] = {cameras, H5S_UNLIMITED}, chunk[2] = {cameras, 256};
  h5::Handle space = h5::space(H5Screate_simple(2, dims, maxDims));
  h5::Handle dcpl = h5::plist(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl, 2, chunk);
  return h5::dataset(
      h5::check(H5Dcreate2(file, "compress_len", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                "create compress_len"));
}

// h5py's bool: an int8 enum of FALSE and TRUE, which numpy reads back as dtype bool.
h5::Handle boolType() {
  h5::Handle type = h5::type(H5Tenum_create(H5T_NATIVE_INT8));
  std::int8_t no = 0, yes = 1;
  H5Tenum_insert(type, "FALSE", &no);
  H5Tenum_insert(type, "TRUE", &yes);
  return type;
}

// /policy_source: a uint8 enum naming each PolicySource, which h5py reads with its names.
h5::Handle policySourceType() {
  h5::Handle type = h5::type(H5Tenum_create(H5T_NATIVE_UINT8));
  for (PolicySource source :
       {PolicySource::None, PolicySource::Main, PolicySource::Fallback, PolicySource::Human}) {
    const auto value = static_cast<std::uint8_t>(source);
    H5Tenum_insert(type, nameOf(source), &value);
  }
  return type;
}

void appendSources(hid_t dataset, hsize_t oldRows, const std::vector<std::uint8_t>& sources) {
  hsize_t newDims[1] = {oldRows + sources.size()};
  h5::check(H5Dset_extent(dataset, newDims), "extend /policy_source");
  h5::Handle fileSpace = h5::space(H5Dget_space(dataset));
  hsize_t start[1] = {oldRows}, count[1] = {sources.size()};
  H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nullptr, count, nullptr);
  h5::Handle memSpace = h5::space(H5Screate_simple(1, count, nullptr));
  h5::check(H5Dwrite(dataset, policySourceType(), memSpace, fileSpace, H5P_DEFAULT, sources.data()),
            "write /policy_source");
}

void appendFlags(hid_t dataset, hsize_t oldRows, const std::vector<std::int8_t>& flags) {
  hsize_t newDims[1] = {oldRows + flags.size()};
  h5::check(H5Dset_extent(dataset, newDims), "extend dataset");
  h5::Handle fileSpace = h5::space(H5Dget_space(dataset));
  hsize_t start[1] = {oldRows}, count[1] = {flags.size()};
  H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nullptr, count, nullptr);
  h5::Handle memSpace = h5::space(H5Screate_simple(1, count, nullptr));
  h5::check(H5Dwrite(dataset, boolType(), memSpace, fileSpace, H5P_DEFAULT, flags.data()), "write flags");
}

// Appends `rows` rows of doubles (row-major, `cols` each) to a [T, cols] or [T] dataset.
void appendRows(hid_t dataset, hsize_t oldRows, hsize_t rows, hsize_t cols, const double* values) {
  bool matrix = cols > 0;
  hsize_t newDims[2] = {oldRows + rows, cols};
  h5::check(H5Dset_extent(dataset, newDims), "extend dataset");
  h5::Handle fileSpace = h5::space(H5Dget_space(dataset));
  hsize_t start[2] = {oldRows, 0}, count[2] = {rows, cols};
  H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nullptr, count, nullptr);
  h5::Handle memSpace = h5::space(H5Screate_simple(matrix ? 2 : 1, count, nullptr));
  h5::check(H5Dwrite(dataset, H5T_NATIVE_DOUBLE, memSpace, fileSpace, H5P_DEFAULT, values), "write rows");
}

std::string isoTimeNow() {
  std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&now));
  return text;
}

}  // namespace

EpisodeLayout::EpisodeLayout(h5::Handle file, const EpisodeInfo& info, JointPrecision precision)
    : info_(info), precision_(precision), file_(std::move(file)) {
  writeRootAttributes();
  createDatasets();
}

// The labels a take is saved with, before anyone edits them.
EpisodeLabels EpisodeLayout::recordedLabels(std::optional<bool> success) const {
  EpisodeLabels labels;
  labels.task = info_.task;
  labels.tags = info_.tags;
  labels.operatorName = info_.operatorName;
  labels.success = success;
  return labels;
}

void EpisodeLayout::writeRootAttributes() {
  hid_t file = file_;
  h5::writeBoolAttribute(file, "sim", info_.sim);
  h5::writeStringAttribute(file, "task", info_.task);
  h5::writeDoubleAttribute(file, "fps", info_.fps);
  h5::writeStringAttribute(file, "rig_name", info_.rigName);
  h5::writeStringAttribute(file, "rig_config", info_.rigConfigText);
  h5::writeStringAttribute(file, "software_version", std::string("flywheel ") + FLYWHEEL_VERSION);
  h5::writeStringAttribute(file, "start_time", isoTimeNow());
  h5::writeBoolAttribute(file, "complete",
                         false);  // set true by writeClosingAttributes(); false marks an interrupted take
  h5::writeStringAttribute(file, "operator", info_.operatorName);
  std::string tags;
  for (const std::string& tag : info_.tags)
    tags += (tags.empty() ? "" : ",") + tag;
  h5::writeStringAttribute(file, "tags", tags);
  h5::writeBoolAttribute(file, "compress", info_.imageStorage == ImageStorage::Jpeg);
  createLabelSlots(file, recordedLabels(std::nullopt));
}

void EpisodeLayout::createDatasets() {
  hid_t file = file_;
  const hsize_t joints = info_.joints;
  const bool jpeg = info_.imageStorage == ImageStorage::Jpeg;
  const hid_t number = precision_ == JointPrecision::Float32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
  h5::Handle observations =
      h5::group(H5Gcreate2(file, "observations", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  qpos_ = createExtendible(observations, "qpos", number, {joints}, kStateChunkRows, true);
  qvel_ = createExtendible(observations, "qvel", number, {joints}, kStateChunkRows, true);
  effort_ = createExtendible(observations, "effort", number, {joints}, kStateChunkRows, true);
  action_ = createExtendible(file, "action", number, {joints}, kStateChunkRows, true);
  timestamp_ = createExtendible(file, "timestamp", H5T_IEEE_F64LE, {}, kStateChunkRows, true);
  intervention_ = createExtendible(file, "intervention", boolType(), {}, kStateChunkRows, true);
  if (!info_.policy.empty()) {
    h5::writeStringAttribute(file, "policy", info_.policy);
    policyAction_ = createExtendible(file, "policy_action", number, {joints}, kStateChunkRows, true);
    policySource_ = createExtendible(file, "policy_source", policySourceType(), {}, kStateChunkRows, true);
  }

  h5::Handle images = h5::group(H5Gcreate2(observations, "images", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  h5::Handle stamps =
      h5::group(H5Gcreate2(observations, "image_timestamps", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  for (const CameraSpec& cam : info_.cameras) {
    if (jpeg) {
      images_.push_back(createJpegRows(images, cam.name));
      paddedSize_.push_back(0);
    } else {
      std::vector<hsize_t> frame{static_cast<hsize_t>(cam.height), static_cast<hsize_t>(cam.width), 3};
      images_.push_back(createExtendible(images, cam.name, H5T_STD_U8LE, frame, 1, false));
    }
    imageTimestamps_.push_back(createExtendible(stamps, cam.name, H5T_IEEE_F64LE, {}, kStateChunkRows, true));
  }
  if (jpeg) compressLength_ = createCompressLength(file, info_.cameras.size());
}

// One extent change and one write per state dataset for the whole batch; images go frame by frame.
std::uint64_t EpisodeLayout::append(const std::vector<Observation>& batch) {
  if (batch.empty()) return 0;
  if (!haveFirstTime_) {
    firstTime_ = batch.front().time;
    haveFirstTime_ = true;
  }
  const hsize_t n = batch.size(), j = info_.joints;
  std::vector<double> qpos, qvel, effort, action, stamps, proposed;
  std::vector<std::int8_t> intervention;
  std::vector<std::uint8_t> sources;
  qpos.reserve(n * j);
  for (const Observation& obs : batch) {
    intervention.push_back(obs.intervention ? 1 : 0);
    sources.push_back(static_cast<std::uint8_t>(obs.policySource));
    if (obs.policyAction.size() == j)
      proposed.insert(proposed.end(), obs.policyAction.begin(), obs.policyAction.end());
    else
      proposed.insert(proposed.end(), j, std::numeric_limits<double>::quiet_NaN());
    qpos.insert(qpos.end(), obs.state.position.begin(), obs.state.position.end());
    qvel.insert(qvel.end(), obs.state.velocity.begin(), obs.state.velocity.end());
    effort.insert(effort.end(), obs.state.effort.begin(), obs.state.effort.end());
    action.insert(action.end(), obs.action.begin(), obs.action.end());
    stamps.push_back(obs.time - firstTime_);
  }
  qvel.resize(n * j, 0.0);  // arms that report no velocity or effort record zeros
  effort.resize(n * j, 0.0);
  std::uint64_t bytes = n * j * 4 * sizeof(double) + n * sizeof(double);
  // Images first: should the disk fill up, the joint datasets do not run ahead of the frames.
  for (std::size_t c = 0; c < info_.cameras.size(); ++c)
    appendImages(c, batch, bytes);
  appendRows(qpos_, rows_, n, j, qpos.data());
  appendRows(qvel_, rows_, n, j, qvel.data());
  appendRows(effort_, rows_, n, j, effort.data());
  appendRows(action_, rows_, n, j, action.data());
  appendRows(timestamp_, rows_, n, 0, stamps.data());
  appendFlags(intervention_, rows_, intervention);
  if (policyAction_.valid()) appendRows(policyAction_, rows_, n, j, proposed.data());
  if (policySource_.valid()) appendSources(policySource_, rows_, sources);
  rows_ += n;
  return bytes;
}

void EpisodeLayout::appendImages(std::size_t c, const std::vector<Observation>& batch, std::uint64_t& bytes) {
  const CameraSpec& cam = info_.cameras[c];
  const hsize_t n = batch.size();
  std::vector<double> captureTimes;
  for (const Observation& obs : batch)
    captureTimes.push_back(obs.frames[c].captureTime - firstTime_);

  if (info_.imageStorage == ImageStorage::Raw) {
    hid_t images = images_[c];
    hsize_t dims[4] = {rows_ + n, static_cast<hsize_t>(cam.height), static_cast<hsize_t>(cam.width), 3};
    h5::check(H5Dset_extent(images, dims), "extend images " + cam.name);
    for (hsize_t i = 0; i < n; ++i) {
      const Image& image = batch[i].frames[c].image;
      hsize_t offset[4] = {rows_ + i, 0, 0, 0};  // straight to the file: no type conversion, no chunk cache
      h5::check(H5Dwrite_chunk(images, H5P_DEFAULT, 0, offset, image.byteSize(), image.pixels.get()),
                "write frame of " + cam.name);
      bytes += image.byteSize();
    }
  } else {
    appendJpegFrames(c, batch, bytes);
  }
  appendRows(imageTimestamps_[c], rows_, n, 0, captureTimes.data());
}

void EpisodeLayout::appendJpegFrames(std::size_t c, const std::vector<Observation>& batch,
                                     std::uint64_t& bytes) {
  hid_t images = images_[c];
  const CameraSpec& cam = info_.cameras[c];
  const hsize_t n = batch.size();
  // ALOHA encodes what it holds as if it were BGR and decodes it the same way: RGB survives the round trip.
  std::vector<std::vector<std::uint8_t>> encoded(n);
  std::vector<float> lengths(n);
  for (hsize_t i = 0; i < n; ++i) {
    const Image& image = batch[i].frames[c].image;
    cv::Mat view(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.pixels.get()));
    cv::imencode(".jpg", view, encoded[i], {cv::IMWRITE_JPEG_QUALITY, info_.jpegQuality});
    lengths[i] = static_cast<float>(encoded[i].size());
    paddedSize_[c] = std::max<hsize_t>(paddedSize_[c], encoded[i].size());
  }
  hsize_t dims[2] = {rows_ + n, paddedSize_[c]};
  h5::check(H5Dset_extent(images, dims), "extend images " + cam.name);
  for (hsize_t i = 0; i < n; ++i) {
    h5::Handle fileSpace = h5::space(H5Dget_space(images));
    hsize_t start[2] = {rows_ + i, 0}, count[2] = {1, encoded[i].size()};
    H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nullptr, count, nullptr);
    h5::Handle memSpace = h5::space(H5Screate_simple(2, count, nullptr));
    h5::check(H5Dwrite(images, H5T_NATIVE_UINT8, memSpace, fileSpace, H5P_DEFAULT, encoded[i].data()),
              "write JPEG frame of " + cam.name);
    bytes += encoded[i].size();
  }
  hsize_t lengthDims[2] = {info_.cameras.size(), rows_ + n};
  h5::check(H5Dset_extent(compressLength_, lengthDims), "extend compress_len");
  h5::Handle fileSpace = h5::space(H5Dget_space(compressLength_));
  hsize_t start[2] = {c, rows_}, count[2] = {1, n};
  H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nullptr, count, nullptr);
  h5::Handle memSpace = h5::space(H5Screate_simple(2, count, nullptr));
  h5::check(H5Dwrite(compressLength_, H5T_NATIVE_FLOAT, memSpace, fileSpace, H5P_DEFAULT, lengths.data()),
            "write compress_len");
}

void EpisodeLayout::writeClosingAttributes(const std::vector<CameraStats>& cameras,
                                           std::optional<bool> success, const std::string& stopReason) {
  for (std::size_t c = 0; c < info_.cameras.size(); ++c) {
    h5::writeDoubleAttribute(images_[c], "repeated_frames", static_cast<double>(cameras[c].repeatedFrames));
    h5::writeDoubleAttribute(images_[c], "max_frame_age_s", cameras[c].maxFrameAge);
  }
  h5::writeDoubleAttribute(file_, "duration_s", static_cast<double>(rows_) / info_.fps);
  if (success) h5::writeBoolAttribute(file_, "success", *success);
  setRecordedLabels(file_, recordedLabels(success));
  if (stopReason.empty())
    h5::writeBoolAttribute(file_, "complete", true);
  else
    h5::writeStringAttribute(file_, "stop_reason", stopReason);
}

}  // namespace flywheel
