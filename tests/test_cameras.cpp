// OpenCV cameras: a video file as a camera source records its frames in order, a camera that stops ends
// the take with a clear error rather than a frozen image, and a missing device is named.
#include <QtTest>

#include <QTemporaryDir>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <thread>

#include "core/teleop_controller.hpp"
#include "devices/camera/opencv_camera.hpp"
#include "devices/rig.hpp"
#include "recorder/dataset_index.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/episode_recorder.hpp"
#include "recorder/h5.hpp"

using namespace flywheel;

namespace {

// Frame i is a flat grey of level 6 * i: its order survives MJPEG.
std::string makeClip(const QTemporaryDir& dir, int frames) {
  const std::string path = dir.filePath("clip.avi").toStdString();
  cv::VideoWriter writer(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 25.0, cv::Size(320, 240));
  if (!writer.isOpened()) throw std::runtime_error("cannot write " + path);
  for (int i = 0; i < frames; ++i)
    writer.write(cv::Mat(240, 320, CV_8UC3, cv::Scalar::all(6 * i)));
  return path;
}

RigConfig rigWithClip(const std::string& clip) {
  RigConfig rig = loadRigConfig("sim");
  CameraConfig camera;
  camera.name = "clip";
  camera.source = "file:" + clip;
  camera.width = 320;
  camera.height = 240;
  camera.fps = 25;
  rig.cameras = {camera};
  return rig;
}

double meanLevel(const Image& image) {
  cv::Mat view(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.pixels.get()));
  return cv::mean(view)[0];
}

struct Recording {
  std::string path;
  std::string failure;  // why the take was cut short (saved as incomplete), or a write error
  bool complete = false;
  WriterStats stats;
};

Recording recordClip(const RigConfig& config, const QTemporaryDir& dir, std::uint64_t ticks) {
  SteadyClock clock;
  Rig rig(config, clock);
  rig.connect();
  TeleopController teleop;
  ControlLoop loop(rig.config(), rig.devices(), clock);
  EpisodeRecorder recorder;
  loop.setSink(&recorder);
  loop.setController(&teleop);
  DatasetFolder dataset(dir.filePath("data").toStdString());
  std::this_thread::sleep_for(std::chrono::milliseconds(60));  // the first frame is in
  Recording result;
  result.path = recorder.begin(dataset, EpisodeRecorder::infoFor(rig.config(), "watch"), ticks);
  loop.start();
  while (!recorder.reachedLength() && recorder.failure().empty())
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  loop.stop();
  try {
    EpisodeResult ended = recorder.end(std::nullopt);
    result.stats = ended.stats;
    result.complete = ended.complete;
    result.failure = ended.stopReason;
  } catch (const RecorderError& e) {
    result.failure = e.what();
  }
  return result;
}

}  // namespace

class CameraTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void videoFileRecordsFramesInOrder() {
    QTemporaryDir dir;
    RigConfig config = rigWithClip(makeClip(dir, 40));
    Recording recording = recordClip(config, dir, 60);  // 1.2 s at 50 Hz of a 25 fps clip
    QVERIFY2(recording.failure.empty(), recording.failure.c_str());
    QVERIFY(recording.complete);
    EpisodeReader reader(recording.path);
    QCOMPARE(reader.summary().ticks, std::size_t(60));
    double previous = -1.0;
    int distinct = 0;
    for (std::size_t t = 0; t < 60; ++t) {
      double level = meanLevel(reader.readFrame("clip", t));
      QVERIFY2(level >= previous - 2.0,
               qPrintable(QString("tick %1 went back from %2 to %3").arg(t).arg(previous).arg(level)));
      if (level > previous + 2.0) ++distinct;
      previous = level;
    }
    QVERIFY2(distinct >= 20, qPrintable(QString("only %1 distinct frames").arg(distinct)));
    // 50 Hz ticks over a 25 fps source: about every other tick repeats a frame, and it is counted.
    QVERIFY2(recording.stats.cameras.at(0).repeatedFrames >= 20,
             qPrintable(QString("%1 repeated").arg(recording.stats.cameras.at(0).repeatedFrames)));
    QCOMPARE(reader.summary().cameras.at(0).repeatedFrames,
             std::size_t(recording.stats.cameras.at(0).repeatedFrames));
  }

  void stoppedCameraEndsTheTakeClearly() {
    QTemporaryDir dir;
    RigConfig config = rigWithClip(makeClip(dir, 10));  // 0.4 s of video for a 4 s take
    Recording recording = recordClip(config, dir, 200);
    QVERIFY2(QString::fromStdString(recording.failure).contains("camera 'clip' (file:") &&
                 QString::fromStdString(recording.failure).contains("ended after 10 frames"),
             recording.failure.c_str());
    EpisodeSummary s = EpisodeReader(recording.path).summary();
    QVERIFY2(s.ticks > 5 && s.ticks < 100, qPrintable(QString("%1 ticks kept").arg(s.ticks)));
    // Cut short by the camera: saved, but as incomplete, with the reason in the file.
    QVERIFY(!recording.complete);
    QVERIFY(!s.complete);
    h5::Handle file = h5::file(H5Fopen(recording.path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    QVERIFY(h5::hasAttribute(file, "stop_reason"));
    QCOMPARE(h5::readStringAttribute(file, "stop_reason"), recording.failure);
    // ... and the index and list say why, not "interrupted while recording".
    QCOMPARE(s.stopReason, recording.failure);
    EpisodeEntry entry = describeEpisode(recording.path);
    QCOMPARE(nameOf(entry.status), "incomplete");
    QCOMPARE(entry.problem, "cut short: " + recording.failure);
  }

  void missingDeviceIsNamed() {
    CameraConfig camera;
    camera.name = "wrist";
    camera.source = "/dev/video99";
    SteadyClock clock;
    OpenCvCamera missing(camera, clock);
    try {
      missing.open();
      QFAIL("opening a missing camera must fail");
    } catch (const DeviceError& e) {
      QCOMPARE(QString(e.what()), QString("camera 'wrist': cannot open /dev/video99"));
    }
  }
};

QTEST_GUILESS_MAIN(CameraTest)
#include "test_cameras.moc"
