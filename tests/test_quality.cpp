// Episode quality: each metric on an episode built through the real writer to have a known value (a stall,
// a frozen camera, idle head and tail, gripper events, a takeover), metrics a file lacks stay absent, the
// verdict and its reasons, thresholds from a rig file, and index.json caching the measurements.
#include <QtTest>

#include <QTemporaryDir>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "h5py_edit.hpp"
#include "recorder/dataset_folder.hpp"
#include "recorder/dataset_index.hpp"
#include "recorder/episode_quality.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/episode_recorder.hpp"
#include "recorder/h5.hpp"

using namespace flywheel;
using namespace flywheel::testing;

namespace {

// One follower with a joint and a gripper, two tiny cameras; `extra` appends rig file sections.
std::string rigYaml(const std::string& extra = "", int topFps = 50) {
  const std::string view = ", view: {position: [0, 0, 1], look_at: [0.3, 0, 0]}}\n";
  return "name: q\ncontrol_rate_hz: 50\narms:\n"
         "  - {name: f, role: follower, bus: sim, joints: [{name: waist, id: 1, min: -3, max: 3},\n"
         "                                                {name: gripper, id: 2, min: 0, max: 1}]}\n"
         "cameras:\n  - {name: top, source: sim, width: 16, height: 16, fps: " +
         std::to_string(topFps) + view + "  - {name: wrist, source: sim, width: 16, height: 16, fps: 50" +
         view + extra;
}

// What each tick holds; the defaults are a still, steady 50 Hz take with fresh frames.
struct Take {
  std::size_t ticks = 500;
  double fps = 50.0;
  std::string rig = rigYaml();
  std::string policy;
  std::function<double(std::size_t)> time = [](std::size_t k) { return 0.02 * static_cast<double>(k); };
  std::function<JointVector(std::size_t)> joints = [](std::size_t k) {
    return JointVector{0.001 * static_cast<double>(k), 0.0};  // a slow sweep: idle 0.42 s each end
  };
  std::function<double(std::size_t, double)> capture = [](std::size_t, double t) { return t - 0.01; };
  std::function<bool(std::size_t)> human = [](std::size_t) { return false; };
};

EpisodeInfo infoOf(const Take& take) {
  EpisodeInfo info;
  info.task = "t";
  info.fps = take.fps;
  info.sim = true;
  info.rigName = parseRigConfig(take.rig, "q.yaml").name;
  info.rigConfigText = take.rig;
  info.joints = 2;
  info.policy = take.policy;
  info.cameras = {{"top", 16, 16}, {"wrist", 16, 16}};
  return info;
}

Observation tickOf(const Take& take, std::size_t k) {
  static const std::shared_ptr<const std::uint8_t[]> pixels(new std::uint8_t[16 * 16 * 3]());
  Observation o;
  o.tick = k;
  o.time = 100.0 + take.time(k);  // a rig clock that does not start at zero
  o.state = JointState::zeros(2);
  o.state.position = take.joints(k);
  o.action = o.state.position;
  o.intervention = take.human(k);
  for (const char* camera : {"top", "wrist"}) {
    const double captured = std::string(camera) == "top" ? take.capture(k, o.time) : o.time - 0.01;
    o.frames.push_back({Image{16, 16, pixels}, captured, static_cast<std::uint64_t>(captured * 1000)});
  }
  return o;
}

std::string write(const QTemporaryDir& dir, const std::string& name, const Take& take) {
  const std::string path = dir.filePath(QString::fromStdString(name)).toStdString();
  EpisodeWriter writer(path, infoOf(take));
  for (std::size_t k = 0; k < take.ticks; ++k)
    writer.pushBlocking(tickOf(take, k));
  writer.finish(true);
  return path;
}

const CameraQuality& camera(const EpisodeQuality& q, const std::string& name) {
  for (const CameraQuality& c : q.cameras)
    if (c.name == name) return c;
  throw std::runtime_error("no camera " + name);
}

bool hasReason(const QualityVerdict& v, const std::string& words) {
  for (const std::string& reason : v.reasons)
    if (reason.find(words) != std::string::npos) return true;
  return false;
}

}  // namespace

class QualityTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void steadyTakeIsGood() {
    QTemporaryDir dir;
    const EpisodeQuality q = measureEpisode(write(dir, "e.hdf5", Take{}));
    QCOMPARE(q.ticks, std::size_t(500));
    QVERIFY(std::abs(*q.meanRateHz - 50.0) < 1e-6);
    QCOMPARE(*q.worstWindowRateHz, 50.0);
    QVERIFY(*q.jitterP99 < 1e-9);
    QCOMPARE(*q.overruns, std::uint64_t(0));
    QCOMPARE(*q.droppedTicks, std::uint64_t(0));  // stored by the writer at save
    QVERIFY(!q.busRetries && !q.failedTicks);     // a writer without a rig's counters: not recorded
    QCOMPARE(*camera(q, "top").repeatedShare, 0.0);
    QVERIFY(std::abs(*camera(q, "top").maxFrameAge - 0.01) < 1e-9);
    QVERIFY(std::abs(q.idleHeadSeconds - 0.42) < 1e-9);
    QVERIFY(std::abs(q.idleTailSeconds - 0.42) < 1e-9);
    QVERIFY(!q.takeovers && !q.humanShare);  // a demonstration, not a policy run
    const QualityVerdict v = judge(q, {});
    QCOMPARE(v.verdict, Verdict::Good);
    QVERIFY(v.reasons.empty());
  }

  // 0.6 s without a tick at t = 4 s: one overrun, a worst second of 20 ticks, the mean under 95%.
  void stallLowersTheWorstSecond() {
    Take take;
    take.time = [](std::size_t k) { return 0.02 * static_cast<double>(k) + (k >= 200 ? 0.6 : 0.0); };
    QTemporaryDir dir;
    const EpisodeQuality q = measureEpisode(write(dir, "e.hdf5", take));
    QVERIFY(std::abs(*q.meanRateHz - 499.0 / 10.58) < 1e-6);
    QCOMPARE(*q.worstWindowRateHz, 20.0);
    QCOMPARE(*q.overruns, std::uint64_t(1));
    const QualityVerdict v = judge(q, {});
    QCOMPARE(v.verdict, Verdict::Check);
    QVERIFY(hasReason(v, "stalled: 20 ticks in the worst second of 50 Hz"));
    QVERIFY(hasReason(v, "mean rate 47.2 of 50 Hz, under 95%"));
  }

  // ALOHA's rule: 40 of 50 Hz is under 84%.
  void slowTakeIsBad() {
    Take take;
    take.time = [](std::size_t k) { return 0.025 * static_cast<double>(k); };
    QTemporaryDir dir;
    const EpisodeQuality q = measureEpisode(write(dir, "e.hdf5", take));
    QVERIFY(std::abs(*q.meanRateHz - 40.0) < 1e-6);
    QVERIFY(std::abs(*q.jitterP99 - 0.005) < 1e-9);
    const QualityVerdict v = judge(q, {});
    QCOMPARE(v.verdict, Verdict::Bad);
    QVERIFY(hasReason(v, "mean rate 40.0 of 50 Hz, under 84%"));
  }

  // The top camera delivers nothing new after tick 9: 490 of 499 ticks repeat, its last frame ages.
  void frozenCameraIsBad() {
    Take take;
    take.capture = [](std::size_t k, double t) { return k < 10 ? t : 100.0 + 0.02 * 9; };
    QTemporaryDir dir;
    const EpisodeQuality q = measureEpisode(write(dir, "e.hdf5", take));
    QVERIFY(std::abs(*camera(q, "top").repeatedShare - 490.0 / 499.0) < 1e-9);
    QVERIFY(std::abs(*camera(q, "top").maxFrameAge - (9.98 - 0.18)) < 1e-9);
    QCOMPARE(*camera(q, "wrist").repeatedShare, 0.0);
    const QualityVerdict v = judge(q, {});
    QCOMPARE(v.verdict, Verdict::Bad);
    QVERIFY(hasReason(v, "camera top frozen: 98% of frames repeated"));
    QVERIFY(hasReason(v, "camera top frame 9.80 s old"));
    QVERIFY(!hasReason(v, "wrist"));
  }

  // A 25 fps camera in a 50 Hz take repeats every other frame by design; a 50 fps one should not.
  void slowCameraRepeatsAreExpected() {
    Take take;
    take.capture = [](std::size_t k, double) { return 100.0 + 0.04 * static_cast<double>(k / 2); };
    take.rig = rigYaml("", 25);
    QTemporaryDir dir;
    const EpisodeQuality slow = measureEpisode(write(dir, "slow.hdf5", take));
    QVERIFY(std::abs(*camera(slow, "top").repeatedShare - 250.0 / 499.0) < 1e-9);
    QCOMPARE(*camera(slow, "top").expectedRepeatedShare, 0.5);
    QCOMPARE(judge(slow, {}).verdict, Verdict::Good);
    take.rig = rigYaml("", 50);
    const QualityVerdict v = judge(measureEpisode(write(dir, "fast.hdf5", take)), {});
    QCOMPARE(v.verdict, Verdict::Check);
    QVERIFY(hasReason(v, "camera top repeated 50% of frames (0% expected)"));
  }

  // Still for 2 s, a joint held 0.5 rad away from ticks 100 to 399, still again for 2 s; the gripper opens
  // at tick 150 and closes at 250.
  void idleHeadTailMotionAndGripper() {
    Take take;
    take.joints = [](std::size_t k) {
      return JointVector{k >= 100 && k < 400 ? 0.5 : 0.0, k >= 150 && k < 250 ? 1.0 : 0.0};
    };
    QTemporaryDir dir;
    const EpisodeQuality q = measureEpisode(write(dir, "e.hdf5", take));
    QVERIFY(std::abs(q.idleHeadSeconds - 2.0) < 1e-9);
    QVERIFY(std::abs(q.idleTailSeconds - 2.0) < 1e-9);
    QVERIFY(std::abs(*q.pathLength - 1.0) < 1e-9);  // the gripper's travel is not path
    QVERIFY(std::abs(*q.peakJointSpeed - 25.0) < 1e-6);
    QCOMPARE(*q.gripperEvents, 2);
    QCOMPARE(judge(q, {}).verdict, Verdict::Good);  // 2 s is under the default 3 s

    // The same take recorded by a rig whose quality: section allows only 1.5 s of idle.
    take.rig = rigYaml("quality:\n  check_idle_s: 1.5\n");
    const std::string strict = write(dir, "strict.hdf5", take);
    EpisodeReader reader(strict);
    const QualityVerdict v = judge(measureEpisode(strict), thresholdsFor(reader.rigConfigText()));
    QCOMPARE(v.verdict, Verdict::Check);
    QVERIFY(hasReason(v, "idle 2.0 s at the start"));
    QVERIFY(hasReason(v, "idle 2.0 s at the end"));
  }

  void nothingMovedIsAllIdleHead() {
    Take take;
    take.joints = [](std::size_t) { return JointVector{0.3, 1.0}; };
    QTemporaryDir dir;
    const EpisodeQuality q = measureEpisode(write(dir, "e.hdf5", take));
    QVERIFY(std::abs(q.idleHeadSeconds - 9.98) < 1e-9);
    QCOMPARE(q.idleTailSeconds, 0.0);
    QCOMPARE(*q.gripperEvents, 0);
  }

  // A policy run with a human in control from tick 100 to 149 and from 300 to 399.
  void takeoversInAPolicyRun() {
    Take take;
    take.policy = "policy.pt";
    take.human = [](std::size_t k) { return (k >= 100 && k < 150) || (k >= 300 && k < 400); };
    QTemporaryDir dir;
    const EpisodeQuality q = measureEpisode(write(dir, "e.hdf5", take));
    QCOMPARE(*q.takeovers, 2);
    QVERIFY(std::abs(*q.humanShare - 0.3) < 1e-9);
    QCOMPARE(judge(q, {}).verdict, Verdict::Good);
    QualityThresholds strict;
    strict.checkHumanShare = 0.25;
    QVERIFY(hasReason(judge(q, strict), "human in control 30% of the run (2 takeovers)"));
  }

  // An older file: no /quality, no dropped_ticks, no image timestamps, no rig file. What needs them is
  // absent, not zero; the rest is measured from the datasets.
  void metricsAFileLacksAreAbsent() {
    QTemporaryDir dir;
    const std::string path = write(dir, "e.hdf5", Take{});
    QVERIFY(h5pyEdit(path,
                     "del f['quality']; del f.attrs['dropped_ticks']; del f.attrs['rig_config'];"
                     " del f['observations/image_timestamps/top']"));
    EpisodeReader reader(path);
    QVERIFY(!readStoredQuality(reader.file()));
    const EpisodeQuality q = measureEpisode(path);
    QVERIFY(!q.droppedTicks);
    QVERIFY(!camera(q, "top").repeatedShare && !camera(q, "top").maxFrameAge);
    QVERIFY(camera(q, "wrist").repeatedShare);
    QVERIFY(!q.gripperEvents);  // which joint is the gripper was in the rig file
    QVERIFY(q.meanRateHz && q.pathLength);
  }

  // What the rig counted between the take's begin and end is stored with it.
  void busCountersOfTheTakeAreStored() {
    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    EpisodeRecorder recorder(true);
    TakeCounters counters{7, 2};
    recorder.setCounterProbe([&] { return counters; });
    recorder.begin(dataset, infoOf(Take{}), std::nullopt);
    for (std::size_t k = 0; k < 100; ++k)
      recorder.onObservation(tickOf(Take{}, k));
    counters = {10, 5};
    const EpisodeQuality q = measureEpisode(recorder.end(true).path);
    QCOMPARE(*q.busRetries, std::uint64_t(3));
    QCOMPARE(*q.failedTicks, std::uint64_t(3));
    QVERIFY(hasReason(judge(q, {}), "3 failed bus ticks"));
  }

  void storedAtSaveMatchesMeasured() {
    Take take;
    take.capture = [](std::size_t k, double t) { return k % 2 ? t - 0.02 : t; };
    QTemporaryDir dir;
    const std::string path = write(dir, "e.hdf5", take);
    EpisodeReader reader(path);
    const auto stored = readStoredQuality(reader.file());
    QVERIFY(stored);
    const EpisodeQuality measured = measureEpisode(path);
    QCOMPARE(stored->ticks, measured.ticks);
    QCOMPARE(*stored->meanRateHz, *measured.meanRateHz);
    QCOMPARE(stored->idleHeadSeconds, measured.idleHeadSeconds);
    QCOMPARE(*camera(*stored, "top").maxFrameAge, *camera(measured, "top").maxFrameAge);
    QCOMPARE(*stored->gripperEvents, *measured.gripperEvents);
  }

  // A /quality group someone else damaged is not believed: the index measures the datasets instead.
  void damagedStoredQualityIsMeasuredAgain() {
    QTemporaryDir dir;
    Take take;
    take.time = [](std::size_t k) { return 0.025 * static_cast<double>(k); };
    const std::string path = write(dir, "episode_0.hdf5", take);
    for (const char* edit : {"f['quality'].attrs['mean_rate_hz'] = -5.0",
                             "f['quality'].attrs['mean_rate_hz'] = 40.0; f['quality'].attrs['ticks'] = 'x'",
                             "del f['quality']; f['quality'] = np.zeros(3)"}) {
      QVERIFY(h5pyEdit(path, edit));
      EpisodeReader reader(path);
      QVERIFY2(!readStoredQuality(reader.file()), edit);
    }
    const EpisodeEntry entry = DatasetIndex(dir.path().toStdString()).rebuild().at(0);
    QVERIFY(std::abs(*entry.quality->meanRateHz - 40.0) < 1e-6);
    QCOMPARE(entry.verdict, Verdict::Bad);
  }

  // A count stored beyond what its field holds (takeovers is an int) is damage too, not a wrapped number.
  void storedCountTooLargeIsMeasuredAgain() {
    QTemporaryDir dir;
    Take take;
    take.policy = "policy.pt";
    const std::string path = write(dir, "episode_0.hdf5", take);
    {
      EpisodeReader reader(path);
      QVERIFY(readStoredQuality(reader.file()));
    }
    QVERIFY(h5pyEdit(path, "f['quality'].attrs['takeovers'] = 3e9"));
    EpisodeReader reader(path);
    QVERIFY(!readStoredQuality(reader.file()));
  }

  void hostileFileIsAClearError() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("x.hdf5").toStdString();
    std::ofstream(path) << "not an episode";
    try {
      measureEpisode(path);
      QFAIL("no error");
    } catch (const RecorderError& e) {
      QVERIFY(std::string(e.what()).find("not an HDF5 file") != std::string::npos);
    }
  }

  void rigFileQualitySection() {
    const RigConfig rig =
        parseRigConfig(rigYaml("quality:\n  bad_rate: 0.9\n  check_rate: 0.97\n"), "r.yaml");
    QCOMPARE(rig.quality.badRate, 0.9);
    QCOMPARE(rig.quality.checkRate, 0.97);
    QCOMPARE(rig.quality.checkIdle, QualityThresholds{}.checkIdle);
    for (const char* wrong :
         {"quality:\n  bad_rat: 0.9\n", "quality:\n  bad_rate: 0.99\n", "quality:\n  check_rate: 1.5\n"}) {
      try {
        parseRigConfig(rigYaml(wrong), "r.yaml");
        QFAIL(wrong);
      } catch (const ConfigError& e) {
        QVERIFY2(std::string(e.what()).find("r.yaml:") == 0, e.what());
      }
    }
  }

  // The first index measures old files; the second takes the measurements from index.json while a
  // file's size and modification time are unchanged, and measures a touched file again.
  void indexCachesQualityBySizeAndTime() {
    QTemporaryDir dir;
    Take take;
    take.time = [](std::size_t k) { return 0.025 * static_cast<double>(k); };
    const std::string path = write(dir, "episode_0.hdf5", take);
    QVERIFY(h5pyEdit(path, "del f['quality']"));  // as recorded before quality existed
    DatasetIndex index(dir.path().toStdString());
    auto entries = index.rebuild();
    QCOMPARE(entries.size(), std::size_t(1));
    QVERIFY(entries[0].quality);
    QCOMPARE(entries[0].verdict, Verdict::Bad);
    QVERIFY(entries[0].verdictReasons.at(0).starts_with("mean rate 40.0"));
    QCOMPARE(index.read().at(0).verdict, Verdict::Bad);

    // A value only the cache can give: seen again, the file was not measured.
    nlohmann::json stored = nlohmann::json::parse(fileBytes(index.path()));
    stored["episodes"][0]["quality"]["idle_head_s"] = 123.0;
    std::ofstream(index.path()) << stored.dump();
    QCOMPARE(index.rebuild().at(0).quality->idleHeadSeconds, 123.0);

    std::filesystem::last_write_time(path, std::filesystem::last_write_time(path) + std::chrono::seconds(5));
    const EpisodeEntry fresh = index.rebuild().at(0);
    QVERIFY(std::abs(fresh.quality->idleHeadSeconds - 0.525) < 1e-9);
    QCOMPARE(fresh.verdict, Verdict::Bad);
  }

  void verdictNames() {
    for (Verdict v : {Verdict::Good, Verdict::Check, Verdict::Bad})
      QCOMPARE(parseVerdict(nameOf(v)), std::optional<Verdict>(v));
    QVERIFY(!parseVerdict("fine"));
  }
};

QTEST_GUILESS_MAIN(QualityTest)
#include "test_quality.moc"
