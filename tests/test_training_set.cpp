// The training set: episodes become samples with the right targets, statistics and split; frames arrive
// as the policy runtime letterboxes them; unusable files are skipped by name; the frame cache is bounded.
#include <QtTest>

#include <QTemporaryDir>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "policy/image_prep.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/episode_writer.hpp"
#include "recorder/labels.hpp"
#include "training/training_set.hpp"

using namespace flywheel;
namespace fs = std::filesystem;

namespace {

struct Take {
  std::size_t ticks = 10;
  ImageStorage storage = ImageStorage::Raw;
  std::size_t joints = 3;
  std::vector<std::string> cameras{"top", "front"};
  double offset = 0.0;  // shifts every joint value: episodes differ
  bool policyRun = false;
  std::vector<std::size_t> corrected{};  // policy runs: ticks a human controlled
  std::string stopReason{};
  std::size_t topRepeats = 1;  // ticks per "top" frame: a camera slower than the loop repeats its frame //
                               // non-empty: cut short, not complete
};

// A frame with smooth content (JPEG keeps it close) that changes with the tick and the camera.
Image pattern(int width, int height, std::size_t tick, std::size_t camera) {
  std::shared_ptr<std::uint8_t[]> pixels(new std::uint8_t[static_cast<std::size_t>(width) * height * 3]);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      std::uint8_t* p = pixels.get() + (static_cast<std::size_t>(y) * width + x) * 3;
      p[0] = static_cast<std::uint8_t>(200);  // red everywhere: a swapped channel order shows
      p[1] = static_cast<std::uint8_t>((x * 4 + tick * 3) % 120);
      p[2] = static_cast<std::uint8_t>((y * 4 + camera * 40) % 120);
    }
  return Image{width, height, pixels};
}

double jointValue(const Take& take, std::size_t t, std::size_t j, bool action) {
  if (j == 2 && !action) return 0.5;  // a joint that never moves: its std is floored
  return take.offset + std::sin(0.1 * t + j) + (action ? 0.05 * (j + 1) + 0.01 * t : 0.0);
}

// Writes an episode like the recorder does, without a rig: 40x30 "top" and 32x32 "front" frames.
std::string write(const std::string& path, const Take& take, bool finish = true,
                  std::unique_ptr<EpisodeWriter>* keepOpen = nullptr) {
  EpisodeInfo info;
  info.task = "pick";
  info.imageStorage = take.storage;
  info.joints = take.joints;
  for (const std::string& name : take.cameras)
    info.cameras.push_back(name == "top" ? CameraSpec{name, 40, 30} : CameraSpec{name, 32, 32});
  if (take.policyRun) info.policy = "test.pt";
  auto writer = std::make_unique<EpisodeWriter>(path, info);
  for (std::size_t t = 0; t < take.ticks; ++t) {
    Observation o;
    o.tick = t;
    o.time = t / 50.0;
    o.state = JointState::zeros(take.joints);
    o.action.resize(take.joints);
    for (std::size_t j = 0; j < take.joints; ++j) {
      o.state.position[j] = jointValue(take, t, j, false);
      o.action[j] = jointValue(take, t, j, true);
    }
    for (std::size_t c = 0; c < info.cameras.size(); ++c) {
      const std::size_t frame = info.cameras[c].name == "top" ? t / take.topRepeats : t;  // slower camera
      o.frames.push_back(
          {pattern(info.cameras[c].width, info.cameras[c].height, frame, c), frame / 50.0, frame + 1});
    }
    o.intervention = std::find(take.corrected.begin(), take.corrected.end(), t) != take.corrected.end();
    if (take.policyRun) o.policyAction = JointVector(take.joints, 0.0);
    writer->pushBlocking(o);
  }
  if (keepOpen) {
    *keepOpen = std::move(writer);
    return path;
  }
  if (finish) writer->finish(true, take.stopReason);
  return path;
}

std::string episodePath(const QTemporaryDir& dir, int number) {
  return dir.filePath(QString("episode_%1.hdf5").arg(number)).toStdString();
}

TrainingSetOptions optionsFor(const QTemporaryDir& dir) {
  TrainingSetOptions o;
  o.sources = {dir.path().toStdString()};
  o.imageHeight = 24;
  o.imageWidth = 32;
  o.horizon = 5;
  o.heldOutShare = 0.0;
  return o;
}

std::string errorOf(const TrainingSetOptions& options) {
  try {
    TrainingSet set(options);
  } catch (const TrainingError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

class TrainingSetTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // Raw and JPEG episodes of unequal lengths: states, chunk targets (tail repeated), frames, statistics.
  void batchHoldsNormalisedStatesTargetsAndRuntimeFrames() {
    QTemporaryDir dir;
    write(episodePath(dir, 0), {.ticks = 40});
    write(episodePath(dir, 1), {.ticks = 25, .storage = ImageStorage::Jpeg, .offset = 0.3});
    TrainingSetOptions options = optionsFor(dir);
    options.cameras = {"top", "front"};
    TrainingSet set(options);
    QCOMPARE(set.episodes().size(), std::size_t(2));
    QCOMPARE(set.joints(), std::size_t(3));
    QCOMPARE(set.cameras(), options.cameras);
    QCOMPARE(set.trainSamples().size(), std::size_t(65));
    QVERIFY(set.skipped().empty());

    // Statistics over every tick of both episodes; the still joint's std floored at 0.01.
    std::vector<std::vector<double>> qpos, action;
    for (const std::string& path : set.episodes()) {
      EpisodeReader reader(path);
      qpos.push_back(reader.readDoubles("/observations/qpos"));
      action.push_back(reader.readDoubles("/action"));
    }
    const NormalisationStats& stats = set.stats();
    for (std::size_t j = 0; j < 3; ++j) {
      double sum = 0, squares = 0;
      for (const auto& e : action)
        for (std::size_t t = 0; t < e.size() / 3; ++t)
          sum += e[t * 3 + j];
      const double mean = sum / 65;
      for (const auto& e : action)
        for (std::size_t t = 0; t < e.size() / 3; ++t)
          squares += (e[t * 3 + j] - mean) * (e[t * 3 + j] - mean);
      QVERIFY(std::abs(stats.actionMean[j] - mean) < 1e-9);
      QVERIFY(std::abs(stats.actionStd[j] - std::sqrt(squares / 65)) < 1e-9);
    }
    QCOMPARE(stats.stateMean[2], 0.5);
    QCOMPARE(stats.stateStd[2], 0.01);

    const std::vector<SampleRef> samples{{0, 0}, {0, 38}, {1, 24}, {1, 7}};
    TrainingBatch b = set.batch(samples);
    QCOMPARE(b.size, samples.size());
    QCOMPARE(b.joints, 3);
    QCOMPARE(b.horizon, 5);
    QCOMPARE(b.cameras, 2);
    QCOMPARE(b.height, 24);
    QCOMPARE(b.width, 32);
    QCOMPARE(b.state.size(), std::size_t(4 * 3));
    QCOMPARE(b.actions.size(), std::size_t(4 * 5 * 3));
    QCOMPARE(b.images.size(), std::size_t(4 * 2 * 3 * 24 * 32));
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const auto [e, t] = samples[i];
      const std::size_t ticks = qpos[e].size() / 3;
      for (std::size_t j = 0; j < 3; ++j) {
        const double state = (qpos[e][t * 3 + j] - stats.stateMean[j]) / stats.stateStd[j];
        QVERIFY(std::abs(b.state[i * 3 + j] - state) < 1e-5);
        for (std::size_t h = 0; h < 5; ++h) {
          const std::size_t source = std::min<std::size_t>(t + h, ticks - 1);  // the last action repeats
          const double target = (action[e][source * 3 + j] - stats.actionMean[j]) / stats.actionStd[j];
          QVERIFY(std::abs(b.actions[(i * 5 + h) * 3 + j] - target) < 1e-5);
        }
      }
      EpisodeReader reader(set.episodes()[e]);
      for (std::size_t c = 0; c < 2; ++c) {
        const std::vector<std::uint8_t> expected =
            resizeWithPadChw(reader.readFrame(set.cameras()[c], t), 24, 32);
        const std::size_t plane = 3 * 24 * 32;
        QVERIFY(std::equal(expected.begin(), expected.end(), b.images.begin() + (i * 2 + c) * plane));
      }
    }
    // JPEG frames keep the channel order: the red channel (200 everywhere) stays red after the round trip.
    EpisodeReader jpeg(set.episodes()[1]);
    Image frame = jpeg.readFrame("top", 3);
    QVERIFY(std::abs(int(frame.pixels[0]) - 200) < 12);
  }

  void heldOutEpisodesFollowTheSeedAndStatisticsSkipThem() {
    QTemporaryDir dir;
    for (int e = 0; e < 10; ++e)
      write(episodePath(dir, e), {.ticks = 4 + std::size_t(e), .cameras = {"top"}, .offset = 0.1 * e});
    TrainingSetOptions options = optionsFor(dir);
    options.heldOutShare = 0.2;
    options.seed = 7;
    TrainingSet a(options), b(options);
    QCOMPARE(a.heldOutEpisodes().size(), std::size_t(2));
    QCOMPARE(a.heldOutEpisodes(), b.heldOutEpisodes());
    QCOMPARE(a.trainSamples().size() + a.heldOutSamples().size(), std::size_t(4 * 10 + 45));
    bool differs = false;
    for (unsigned seed = 1; seed < 6; ++seed) {
      options.seed = seed;
      differs = differs || TrainingSet(options).heldOutEpisodes() != a.heldOutEpisodes();
    }
    QVERIFY(differs);

    double sum = 0;
    for (const SampleRef& s : a.trainSamples()) {
      QVERIFY(!a.usage()[s.episode].heldOut);
      sum += 0.1 * s.episode + std::sin(0.1 * s.tick);  // joint 0's qpos (see jointValue)
    }
    for (const SampleRef& s : a.heldOutSamples())
      QVERIFY(a.usage()[s.episode].heldOut);
    QVERIFY(std::abs(a.stats().stateMean[0] - sum / a.trainSamples().size()) < 1e-9);

    options.sources = {episodePath(dir, 3), episodePath(dir, 3)};  // one episode (named twice): none held out
    TrainingSet one(options);
    QCOMPARE(one.episodes().size(), std::size_t(1));
    QVERIFY(one.heldOutEpisodes().empty());
  }

  void unusableEpisodesAreSkippedByName() {
    QTemporaryDir dir;
    write(episodePath(dir, 0), {});
    const std::string damaged = episodePath(dir, 1);
    fs::copy_file(episodePath(dir, 0), damaged);
    fs::resize_file(damaged, fs::file_size(damaged) / 2);
    write(episodePath(dir, 2), {.stopReason = "camera 'top' stopped"});
    write(episodePath(dir, 3), {.joints = 4});
    write(episodePath(dir, 4), {.cameras = {"top"}});
    std::unique_ptr<EpisodeWriter> recording;
    write(episodePath(dir, 5), {}, true, &recording);
    std::ofstream(episodePath(dir, 6)) << "not an episode";
    write(episodePath(dir, 7), {.ticks = 5, .offset = 1.0});

    TrainingSet set(optionsFor(dir));
    QCOMPARE(set.episodes(), (std::vector<std::string>{episodePath(dir, 0), episodePath(dir, 7)}));
    const std::vector<std::pair<int, std::string>> expected{
        {1, "damaged: "},       {2, "incomplete: cut short: camera 'top' stopped"},
        {3, "4 joints, not 3"}, {4, "no camera 'front' (it has top)"},
        {5, "being recorded"},  {6, "damaged: "}};
    QCOMPARE(set.skipped().size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      QCOMPARE(set.skipped()[i].path, episodePath(dir, expected[i].first));
      QVERIFY2(set.skipped()[i].reason.starts_with(expected[i].second), set.skipped()[i].reason.c_str());
    }
    recording->finish(true);
  }

  // A policy run teaches only where the human corrected it; without a correction it gives no samples.
  void policyRunsGiveOnlyTheirInterventionTicks() {
    QTemporaryDir dir;
    write(episodePath(dir, 0), {.ticks = 10});
    write(episodePath(dir, 1), {.ticks = 20, .offset = 0.2, .policyRun = true, .corrected = {5, 6, 7, 8, 9}});
    write(episodePath(dir, 2), {.ticks = 15, .policyRun = true});
    TrainingSet set(optionsFor(dir));
    QCOMPARE(set.usage().size(), std::size_t(3));
    QVERIFY(!set.usage()[0].policyRun);
    QVERIFY(set.usage()[1].policyRun);
    QCOMPARE(set.usage()[1].samples, std::size_t(5));
    QCOMPARE(set.usage()[2].samples, std::size_t(0));
    std::vector<std::uint32_t> ticks;
    for (const SampleRef& s : set.trainSamples())
      if (s.episode == 1) ticks.push_back(s.tick);
    QCOMPARE(ticks, (std::vector<std::uint32_t>{5, 6, 7, 8, 9}));
    QCOMPARE(set.trainSamples().size(), std::size_t(15));

    TrainingSetOptions options = optionsFor(dir);
    options.sources = {episodePath(dir, 2)};
    QVERIFY(errorOf(options).starts_with("no samples"));
  }

  // Trim marks keep their ticks only, and a chunk's targets stop at the trim's end as at an episode's.
  void trimsKeepOnlyTheirTicks() {
    QTemporaryDir dir;
    const std::string path = write(episodePath(dir, 0), {.ticks = 40});  // /timestamp: t / 50
    EpisodeLabels labels = readLabels(path);
    labels.trimStart = 0.1;
    labels.trimEnd = 0.5;
    writeLabels(path, labels);
    TrainingSet set(optionsFor(dir));
    QCOMPARE(set.usage()[0].keptFirst, std::size_t(5));
    QCOMPARE(set.usage()[0].keptEnd, std::size_t(25));
    std::vector<std::uint32_t> ticks;
    for (const SampleRef& s : set.trainSamples())
      ticks.push_back(s.tick);
    QCOMPARE(ticks.size(), std::size_t(20));
    QCOMPARE(ticks.front(), 5u);
    QCOMPARE(ticks.back(), 24u);
    const TrainingBatch last = set.batch({{0, 24}}), before = set.batch({{0, 22}});
    for (int h = 1; h < 5; ++h)  // past tick 24 the kept action repeats; before it they still change
      for (int j = 0; j < 3; ++j) {
        QCOMPARE(last.actions[h * 3 + j], last.actions[j]);
        if (h == 1) QVERIFY(before.actions[3 + j] != before.actions[j]);
      }
  }

  // In a policy run, human ticks marked as recovery are dropped; corrections and unmarked ones are kept.
  void recoverySpansAreNotTrainedOn() {
    QTemporaryDir dir;
    std::vector<std::size_t> human;
    for (std::size_t t = 5; t < 20; ++t)
      human.push_back(t);
    const std::string path = write(episodePath(dir, 0), {.ticks = 30, .policyRun = true, .corrected = human});
    EpisodeLabels labels = readLabels(path);
    labels.segments = {
        {0.0, 0.6, "pick up the cube"}, {0.1, 0.2, "recovery"}, {0.2, 0.3, "correction: grasp"}};
    writeLabels(path, labels);
    TrainingSet set(optionsFor(dir));
    std::vector<std::uint32_t> ticks;
    for (const SampleRef& s : set.trainSamples())
      ticks.push_back(s.tick);
    QCOMPARE(ticks, (std::vector<std::uint32_t>{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}));
  }

  // Frames decoded once are kept only up to cacheBytes; what is not kept is decoded again, the same.
  void frameCacheStaysWithinItsBound() {
    QTemporaryDir dir;
    write(episodePath(dir, 0), {.ticks = 30, .storage = ImageStorage::Jpeg});
    TrainingSetOptions options = optionsFor(dir);
    const std::size_t frameBytes = 3 * 24 * 32;
    options.cacheBytes = 7 * frameBytes + 5;
    TrainingSet small(options);
    const TrainingBatch first = small.batch(small.trainSamples());
    QCOMPARE(small.cacheBytesUsed(), 7 * frameBytes);
    const TrainingBatch again = small.batch(small.trainSamples());
    QVERIFY(small.cacheBytesUsed() <= options.cacheBytes);
    QCOMPARE(again.images, first.images);

    options.cacheBytes = std::size_t(1) << 30;
    TrainingSet large(options);
    QCOMPARE(large.batch(large.trainSamples()).images, first.images);
    QCOMPARE(large.cacheBytesUsed(), 30 * 2 * frameBytes);
  }

  // A frame recorded again on the next tick (same capture time) is decoded and cached once.
  void repeatedFramesAreReadOnce() {
    QTemporaryDir dir;
    write(episodePath(dir, 0), {.ticks = 12, .storage = ImageStorage::Jpeg, .topRepeats = 3});
    TrainingSet set(optionsFor(dir));
    QCOMPARE(set.cameras(), (std::vector<std::string>{"front", "top"}));
    const TrainingBatch b = set.batch(set.trainSamples());
    QCOMPARE(set.cacheBytesUsed(), (12 + 4) * std::size_t(3 * 24 * 32));
    EpisodeReader reader(set.episodes()[0]);
    const std::size_t frameBytes = 3 * 24 * 32;
    for (std::size_t t = 0; t < 12; ++t) {
      const std::vector<std::uint8_t> top = resizeWithPadChw(reader.readFrame("top", t), 24, 32);
      QVERIFY(std::equal(top.begin(), top.end(), b.images.begin() + (t * 2 + 1) * frameBytes));
    }
  }

  void loaderThreadsGetTheSameBatches() {
    QTemporaryDir dir;
    for (int e = 0; e < 4; ++e)
      write(episodePath(dir, e), {.ticks = 12, .storage = e % 2 ? ImageStorage::Jpeg : ImageStorage::Raw});
    TrainingSetOptions options = optionsFor(dir);
    options.cacheBytes = 20 * 3 * 24 * 32;  // most frames decoded on every pass
    TrainingSet set(options);
    const TrainingBatch expected = set.batch(set.trainSamples());
    std::vector<std::thread> threads;
    std::atomic<int> wrong = 0;
    for (int i = 0; i < 4; ++i)
      threads.emplace_back([&] {
        for (int pass = 0; pass < 3; ++pass)
          if (set.batch(set.trainSamples()).images != expected.images) ++wrong;
      });
    for (std::thread& t : threads)
      t.join();
    QCOMPARE(wrong.load(), 0);
  }

  // A file that goes bad after the set was built stops the batch with an error naming it.
  void aFrameThatCannotBeReadNamesItsFile() {
    QTemporaryDir dir;
    const std::string path = write(episodePath(dir, 0), {.ticks = 12, .storage = ImageStorage::Jpeg});
    TrainingSet set(optionsFor(dir));
    fs::remove(path);
    std::ofstream(path) << "gone";
    try {
      set.batch(set.trainSamples());
      QFAIL("no error");
    } catch (const TrainingError& e) {
      QVERIFY2(std::string(e.what()).starts_with(path + ": "), e.what());
    }
  }

  void badOptionsGetClearErrors() {
    QTemporaryDir dir;
    TrainingSetOptions options = optionsFor(dir);
    QVERIFY(errorOf(options).starts_with("no usable episodes in " + dir.path().toStdString()));
    options.sources.clear();
    QVERIFY(errorOf(options).starts_with("no episodes"));
    options.sources = {dir.filePath("missing").toStdString()};
    QVERIFY(errorOf(options).ends_with("missing: no such dataset folder or episode file"));

    write(episodePath(dir, 0), {});
    options = optionsFor(dir);
    options.cameras = {"top", "side"};
    QCOMPARE(errorOf(options), std::string("no episode has camera 'side' (they have front, top)"));
    options = optionsFor(dir);
    options.horizon = 0;
    QVERIFY(errorOf(options).starts_with("horizon 0"));
    options = optionsFor(dir);
    options.imageHeight = 2;
    QVERIFY(errorOf(options).starts_with("image size 2x32"));
    options = optionsFor(dir);
    options.heldOutShare = 1.0;
    QVERIFY(errorOf(options).starts_with("held-out share"));
    QCOMPARE(errorOf(optionsFor(dir)), std::string("(no error)"));
  }
};

QTEST_GUILESS_MAIN(TrainingSetTest)
#include "test_training_set.moc"
