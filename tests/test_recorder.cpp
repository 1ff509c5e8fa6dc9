// Recording: what goes into an episode file comes back out, with the right shapes and types, and
// existing episodes are never overwritten.
#include <QtTest>

#include <sys/stat.h>

#include <QProcess>
#include <QTemporaryDir>
#include <filesystem>
#include <fstream>

#include "h5py_edit.hpp"
#include "recorder/dataset_folder.hpp"
#include "recorder/dataset_index.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/episode_recorder.hpp"
#include "sim_harness.hpp"

using namespace flywheel;
using namespace flywheel::testing;

namespace {

// Records `ticks` ticks of `rig` through an EpisodeRecorder and also keeps what the loop handed it.
struct RecordedEpisode {
  std::string path;
  std::vector<Observation> observations;
};

struct TeeSink final : ObservationSink {
  EpisodeRecorder& recorder;
  std::vector<Observation> seen;
  explicit TeeSink(EpisodeRecorder& r) : recorder(r) {}
  void onObservation(const Observation& o) override {
    if (recorder.reachedLength()) return;
    seen.push_back(o);
    recorder.onObservation(o);
  }
};

RecordedEpisode record(const std::string& rigName, const DatasetFolder& dataset, std::uint64_t ticks,
                       unsigned seed, ImageStorage storage = ImageStorage::Raw) {
  RigConfig config = loadRigConfig(rigName);
  SimHarness harness(config);
  harness.world().resetEpisode(seed);
  harness.rig->refreshSimulatedCameras();
  EpisodeRecorder recorder(true);
  TeeSink tee(recorder);
  harness.loop->setSink(&tee);
  EpisodeInfo info = EpisodeRecorder::infoFor(config, "stack the cube");
  info.imageStorage = storage;
  info.operatorName = "ana";
  info.tags = {"table", "cube"};
  std::string path = recorder.begin(dataset, info, ticks);
  harness.loop->runTicks(ticks + 20);  // more ticks than the take: it must stop at its length
  EpisodeResult result = recorder.end(harness.world().outcome().success);
  if (result.path != path || result.stats.written != ticks)
    throw std::runtime_error("take not written in full");
  return {path, tee.seen};
}

}  // namespace

class RecorderTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void roundTripShapesTypesAndValues() {
    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    RecordedEpisode episode = record("sim-aloha", dataset, 60, 4);
    QCOMPARE(episode.observations.size(), std::size_t(60));

    EpisodeReader reader(episode.path);
    EpisodeSummary s = reader.summary();
    QCOMPARE(s.ticks, std::size_t(60));
    QCOMPARE(s.joints, std::size_t(14));
    QCOMPARE(s.task, std::string("stack the cube"));
    QCOMPARE(s.fps, 50.0);
    QVERIFY(s.sim);
    QVERIFY(s.complete);
    QVERIFY(s.success.has_value());
    QCOMPARE(s.rigName, std::string("sim-aloha"));
    QCOMPARE(reader.rigConfigText(), loadRigConfig("sim-aloha").sourceText);
    QCOMPARE(s.cameras.size(), std::size_t(4));
    for (const CameraSummary& cam : s.cameras) {
      QCOMPARE(cam.frames, std::size_t(60));
      QCOMPARE(cam.height, 480);
      QCOMPARE(cam.width, 640);
    }
    for (const DatasetShape& d : s.datasets) {
      if (d.path.starts_with("/observations/images/")) {
        QCOMPARE(d.dtype, std::string("uint8"));
        QCOMPARE(d.shape, (std::vector<unsigned long long>{60, 480, 640, 3}));
      } else if (d.path.starts_with("/annotations/")) {
        QCOMPARE(d.dtype, std::string("uint8"));  // the label slots
      } else if (d.path == "/intervention") {
        QCOMPARE(d.dtype, std::string("bool"));  // a demonstration: nobody took over
        QCOMPARE(reader.readDoubles("/intervention"), std::vector<double>(60, 0.0));
      } else {
        QCOMPARE(d.dtype, std::string("float64"));
      }
    }

    std::vector<double> qpos = reader.readDoubles("/observations/qpos");
    std::vector<double> action = reader.readDoubles("/action");
    std::vector<double> qvel = reader.readDoubles("/observations/qvel");
    QCOMPARE(qpos, column(episode.observations, false));
    QCOMPARE(action, column(episode.observations, true));
    QCOMPARE(qvel.size(), std::size_t(60 * 14));
    QCOMPARE(qvel[14 * 30 + 3], episode.observations[30].state.velocity[3]);

    std::vector<double> stamps = reader.readDoubles("/timestamp");
    QCOMPARE(stamps.front(), 0.0);
    for (std::size_t t = 1; t < stamps.size(); ++t)
      QVERIFY(std::abs(stamps[t] - stamps[t - 1] - 0.02) < 1e-9);  // the manual clock's ticks, measured

    // Pixels: one frame per camera per tick, exactly as the camera delivered it.
    Image frame = reader.readFrame("cam_left_wrist", 42);
    const Image& sent = episode.observations[42].frames[2].image;
    QVERIFY(std::equal(frame.pixels.get(), frame.pixels.get() + frame.byteSize(), sent.pixels.get()));
    std::vector<double> captured = reader.readDoubles("/observations/image_timestamps/cam_left_wrist");
    QCOMPARE(captured[42], episode.observations[42].frames[2].captureTime - episode.observations[0].time);
  }

  void episodesAreNeverOverwritten() {
    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    RecordedEpisode first = record("sim", dataset, 10, 1);
    auto firstBytes = std::filesystem::file_size(first.path);
    // Someone else's episode_5 in the folder: the next take goes after it, earlier numbers stay free.
    std::filesystem::copy_file(first.path, dir.filePath("episode_5.hdf5").toStdString());
    RecordedEpisode second = record("sim", dataset, 10, 2);
    QCOMPARE(QFileInfo(QString::fromStdString(second.path)).fileName(), QString("episode_6.hdf5"));
    QCOMPARE(std::filesystem::file_size(first.path), firstBytes);
    QCOMPARE(dataset.episodePaths().size(), std::size_t(3));
    QVERIFY_THROWS_EXCEPTION(RecorderError,
                             EpisodeWriter(first.path, EpisodeRecorder::infoFor(loadRigConfig("sim"), "x")));
    QCOMPARE(std::filesystem::file_size(first.path), firstBytes);
  }

  void fixedLengthTakesAllMatch() {
    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    for (unsigned seed = 1; seed <= 3; ++seed)
      record("sim", dataset, 37, seed);
    for (const std::string& path : dataset.episodePaths())
      QCOMPARE(EpisodeReader(path).summary().ticks, std::size_t(37));
  }

  void damagedFilesAreReportedNotCrashed() {
    QTemporaryDir dir;
    const std::string garbage = dir.filePath("episode_0.hdf5").toStdString();
    std::ofstream(garbage) << "this is not an HDF5 file";
    try {
      EpisodeReader reader(garbage);
      QFAIL("a damaged file must be refused");
    } catch (const RecorderError& e) {
      QVERIFY2(QString(e.what()).contains("episode_0.hdf5: not an HDF5 file"), e.what());
    }
    // Truncated in the middle: the header survives, the data does not.
    DatasetFolder dataset(dir.path().toStdString());
    RecordedEpisode episode = record("sim", dataset, 20, 1);
    std::filesystem::resize_file(episode.path, std::filesystem::file_size(episode.path) / 3);
    try {
      EpisodeReader reader(episode.path);
      reader.summary();
      reader.readDoubles("/observations/qpos");
      QFAIL("a truncated file must be refused");
    } catch (const RecorderError& e) {
      QVERIFY2(QString(e.what()).contains(QString::fromStdString(episode.path)), e.what());
    }
  }

  // Validation reads the layout ACT reads: each of these used to be listed as `complete`.
  void misshapenEpisodesAreDamagedWithTheReason() {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"del f['observations/qpos']", "no dataset /observations/qpos"},
        {"replace(f, 'action', f['action'][:, 0])", "/action is [12], expected [ticks, joints]"},
        {"replace(f, 'observations/qvel', f['observations/qvel'][:-2])", "/observations/qvel is [10, 7]"},
        {"replace(f, 'action', np.array([[b'x']] * 12))", "/action holds string, not numbers"},
        {"replace(f, 'observations/images/top', f['observations/images/top'][:].astype(np.float32))",
         "/observations/images/top holds float32"},
        {"f.attrs['fps'] = np.ones(3)", "attribute 'fps' holds 3 values"},
    };
    for (const auto& [edit, reason] : cases) {
      QTemporaryDir dir;
      DatasetFolder dataset(dir.path().toStdString());
      RecordedEpisode episode = record("sim", dataset, 12, 1);
      QVERIFY(h5pyEdit(episode.path, edit));
      const EpisodeEntry entry = describeEpisode(episode.path);
      QVERIFY2(entry.status == EpisodeStatus::Damaged, edit.c_str());
      QVERIFY2(entry.problem.find(reason) != std::string::npos, entry.problem.c_str());
      QVERIFY(!EpisodeReader(episode.path).summary().problem.empty());
    }
  }

  // A take being written is `recording` (never `damaged`), even to this process; a file another program
  // holds open for writing is `busy`, not damaged.
  void takeInProgressIsRecordingAndALockedFileIsBusy() {
    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    {
      auto writer = dataset.createEpisode(EpisodeRecorder::infoFor(loadRigConfig("sim"), "x"));
      QCOMPARE(nameOf(describeEpisode(writer->path()).status), "recording");
      writer->finish(true);
      QCOMPARE(nameOf(describeEpisode(writer->path()).status), "complete");
    }
    RecordedEpisode episode = record("sim", dataset, 10, 1);
    QProcess holder;  // h5py keeps the file open for writing until its stdin closes
    holder.start("/usr/bin/python3",
                 {"-c",
                  "import h5py, sys; f = h5py.File(sys.argv[1], 'a'); print('open', flush=True); "
                  "sys.stdin.read()",
                  QString::fromStdString(episode.path)});
    QVERIFY(holder.waitForReadyRead(30000));
    const EpisodeEntry busy = describeEpisode(episode.path);
    QCOMPARE(nameOf(busy.status), "busy");
    QCOMPARE(busy.problem, std::string("open elsewhere"));
    holder.closeWriteChannel();
    QVERIFY(holder.waitForFinished(30000));
    QCOMPARE(nameOf(describeEpisode(episode.path).status), "complete");
  }

  // Read-only commands scan a folder whose index cannot be replaced (here a full disk: the temporary file
  // is /dev/full) and keep the old index; writers still get the error.
  void indexLeftAsItWasWhenItCannotBeWritten() {
    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    record("sim", dataset, 10, 1);
    DatasetIndex index(dataset.path());
    std::ofstream(index.path()) << "{\"version\": 1, \"episodes\": []}\n";
    std::filesystem::create_symlink("/dev/full", index.path() + ".tmp");
    std::string notWritten;
    QCOMPARE(index.scan(notWritten).size(), std::size_t(1));
    QVERIFY2(notWritten.find("No space left on device") != std::string::npos, notWritten.c_str());
    QCOMPARE(fileBytes(index.path()), std::string("{\"version\": 1, \"episodes\": []}\n"));
    std::filesystem::create_symlink("/dev/full", index.path() + ".tmp");
    QVERIFY_THROWS_EXCEPTION(RecorderError, index.rebuild());
    std::filesystem::remove(index.path() + ".tmp");
    index.rebuild();
    auto inode = [&] {
      struct stat info {};
      ::stat(index.path().c_str(), &info);
      return info.st_ino;
    };
    const auto written = inode();
    index.rebuild();
    QCOMPARE(inode(), written);  // an unchanged index is not replaced
    QVERIFY(index.scan(notWritten).size() == 1 && notWritten.empty());
  }

  // The validator runs on a file image in memory too (what the fuzzer feeds it).
  void episodeReadsFromAFileImage() {
    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    RecordedEpisode episode = record("sim", dataset, 10, 1);
    const std::string bytes = fileBytes(episode.path);
    EpisodeReader reader(bytes.data(), bytes.size(), "image.hdf5");
    EpisodeSummary summary = reader.summary();
    QCOMPARE(summary.problem, std::string());
    QCOMPARE(summary.ticks, std::size_t(10));
    QCOMPARE(reader.readDoubles("/observations/qpos"),
             EpisodeReader(episode.path).readDoubles("/observations/qpos"));
    QVERIFY_THROWS_EXCEPTION(RecorderError,
                             EpisodeReader(bytes.data(), bytes.size() / 3, "cut.hdf5").summary());
  }

  void jpegRoundTrip() {
    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    RecordedEpisode episode = record("sim", dataset, 30, 3, ImageStorage::Jpeg);
    EpisodeReader reader(episode.path);
    EpisodeSummary s = reader.summary();
    QVERIFY(s.jpeg);
    QCOMPARE(s.cameras.at(0).frames, std::size_t(30));
    QCOMPARE(s.cameras.at(0).height, 480);
    Image decoded = reader.readFrame("front", 20);
    const Image& sent = episode.observations[20].frames[1].image;
    double difference = 0.0;
    for (std::size_t i = 0; i < sent.byteSize(); ++i)
      difference += std::abs(int(decoded.pixels[i]) - int(sent.pixels[i]));
    difference /= static_cast<double>(sent.byteSize());
    QVERIFY2(difference < 3.0,
             qPrintable(QString("JPEG differs by %1 per channel on average").arg(difference)));
    std::vector<double> lengths = reader.readDoubles("/compress_len");
    QCOMPARE(lengths.size(), std::size_t(2 * 30));
    QVERIFY(lengths[0] > 1000 && lengths[0] < 200000);
  }

  void indexFollowsTheFiles() {
    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    RecordedEpisode first = record("sim", dataset, 10, 1);
    RecordedEpisode second = record("sim", dataset, 12, 2);
    DatasetIndex index(dataset.path());
    QVERIFY(index.read().empty());  // nobody wrote it yet
    auto entries = index.rebuild();
    QCOMPARE(entries.size(), std::size_t(2));
    QCOMPARE(entries[1].ticks, std::size_t(12));
    QCOMPARE(entries[1].operatorName, std::string("ana"));
    QCOMPARE(entries[1].tags, (std::vector<std::string>{"table", "cube"}));
    QCOMPARE(entries[1].frames.at("top"), std::size_t(12));
    QVERIFY(entries[0].success.has_value());
    QCOMPARE(index.read().size(), std::size_t(2));
    std::filesystem::remove(second.path);
    index.remove(second.path);
    QCOMPARE(index.read().size(), std::size_t(1));
    std::ofstream(index.path()) << "{ not json";
    QVERIFY(index.read().empty());                     // a damaged index reads as none...
    QCOMPARE(index.rebuild().size(), std::size_t(1));  // ...and is rebuilt from the files
    index.update(first.path);
    QCOMPARE(index.read().size(), std::size_t(1));
  }

  // Stored text must be UTF-8: refused before the file exists, so no stub episode is left behind.
  void textThatIsNotUtf8CreatesNoEpisode() {
    QTemporaryDir dir;
    DatasetFolder dataset(dir.filePath("data").toStdString());
    EpisodeRecorder recorder;
    EpisodeInfo info = EpisodeRecorder::infoFor(loadRigConfig("sim"), "cube \xff");
    QVERIFY_THROWS_EXCEPTION(RecorderError, recorder.begin(dataset, info, 10));
    info.task = "ok";
    info.operatorName = "\xc0\xaf";
    QVERIFY_THROWS_EXCEPTION(RecorderError, recorder.begin(dataset, info, 10));
    info.operatorName = "Zoë";
    info.tags = {"fine", "\xed\xa0\x80"};
    QVERIFY_THROWS_EXCEPTION(RecorderError, recorder.begin(dataset, info, 10));
    QVERIFY(!recorder.recording());
    QVERIFY(dataset.episodePaths().empty());
  }

  void writerRefusesMismatchedObservations() {
    QTemporaryDir dir;
    EpisodeInfo info = EpisodeRecorder::infoFor(loadRigConfig("sim"), "x");
    EpisodeWriter writer(dir.filePath("e.hdf5").toStdString(), info);
    Observation wrong;
    wrong.state = JointState::zeros(3);
    wrong.action = JointVector(3);
    QVERIFY_THROWS_EXCEPTION(RecorderError, writer.push(wrong));
    writer.finish(std::nullopt);
    QCOMPARE(EpisodeReader(writer.path()).summary().ticks, std::size_t(0));
  }
};

QTEST_GUILESS_MAIN(RecorderTest)
#include "test_recorder.moc"
