// Language labels: they round trip through the episode file and the dataset index, alternate between the
// two slots, upgrade older files, and concurrent index updates lose nothing.
#include <QtTest>

#include <QTemporaryDir>
#include <filesystem>
#include <limits>
#include <thread>

#include "h5py_edit.hpp"
#include "recorder/dataset_index.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/episode_recorder.hpp"
#include "recorder/h5.hpp"
#include "recorder/labels.hpp"
#include "recorder/trims.hpp"
#include "sim_harness.hpp"

using namespace flywheel;
using namespace flywheel::testing;

namespace {

std::string recordEpisode(const DatasetFolder& dataset, unsigned seed) {
  RigConfig config = loadRigConfig("sim");
  SimHarness harness(config);
  harness.world().resetEpisode(seed);
  EpisodeRecorder recorder(true);
  harness.loop->setSink(&recorder);
  std::string path = recorder.begin(dataset, EpisodeRecorder::infoFor(config, "wipe the counter"), 100);
  harness.loop->runTicks(100);
  recorder.end(true);
  return path;
}

EpisodeLabels sampleLabels() {
  EpisodeLabels labels;
  labels.task = "wipe the counter";
  labels.success = false;
  labels.notes = "sponge slipped — «retry»";
  labels.tags = {"kitchen", "hard"};
  labels.operatorName = "ana";
  labels.segments = {{0.0, 0.8, "pick up the sponge"}, {0.8, 1.9, "wipe the counter"}};
  return labels;
}

}  // namespace

class LabelTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void recordedEpisodeHasItsLabels() {
    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    std::string path = recordEpisode(dataset, 1);
    QVERIFY(hasLabelSlots(path));
    EpisodeLabels labels = readLabels(path);
    QCOMPARE(labels.task, std::string("wipe the counter"));
    QCOMPARE(labels.success, std::optional<bool>(true));
    QVERIFY(labels.segments.empty());
  }

  void roundTripThroughFileAndIndex() {
    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    std::string path = recordEpisode(dataset, 2);
    const std::vector<double> qpos = EpisodeReader(path).readDoubles("/observations/qpos");
    EpisodeLabels labels = sampleLabels();
    writeLabels(path, labels);
    QCOMPARE(readLabels(path), labels);
    labels.segments.push_back({1.9, 2.0, "put it down"});
    labels.success = true;
    writeLabels(path, labels);  // the other slot this time
    QCOMPARE(readLabels(path), labels);
    QCOMPARE(EpisodeReader(path).readDoubles("/observations/qpos"), qpos);  // the recording is untouched

    DatasetIndex index(dataset.path());
    index.update(path);
    auto entries = index.read();
    QCOMPARE(entries.size(), std::size_t(1));
    QCOMPARE(entries[0].segments, std::size_t(3));
    QCOMPARE(entries[0].notes, labels.notes);
    QCOMPARE(entries[0].success, std::optional<bool>(true));
    QCOMPARE(entries[0].tags, labels.tags);
    QVERIFY(entries[0].labelled());
  }

  void olderFilesAreUpgradedByCopy() {
    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    std::string path = recordEpisode(dataset, 3);
    {  // make it look like a file recorded before label slots existed
      h5::Handle file = h5::file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
      H5Ldelete(file, "annotations", H5P_DEFAULT);
    }
    QVERIFY(!hasLabelSlots(path));
    QCOMPARE(readLabels(path).task, std::string("wipe the counter"));  // from the recorded attributes
    writeLabels(path, sampleLabels());
    QVERIFY(hasLabelSlots(path));
    QCOMPARE(readLabels(path), sampleLabels());
    QVERIFY(!std::filesystem::exists(path + ".labels-tmp"));
    QCOMPARE(EpisodeReader(path).summary().ticks, std::size_t(100));
  }

  // The reproduction from issue 11: a label block larger or of another type than the slots the studio
  // writes made every reader overflow a fixed buffer (SIGSEGV). Now the episode is damaged with the reason,
  // a save refuses to write into a block of the wrong shape, and the file is left byte for byte as it was.
  void damagedLabelBlocksAreReportedNeverReadIntoABuffer() {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"replace(f, 'annotations/current', np.zeros(4096, np.uint8))", "current is [4096]"},
        {"replace(f, 'annotations/slot_a', np.zeros(1 << 17, np.uint8))", "slot_a is [131072]"},
        {"replace(f, 'annotations/slot_b', np.zeros(16384, np.int32)); replace(f, 'annotations/current', "
         "np.uint8(1))",
         "slot_b is [16384] integer of 4 byte(s)"},
        {"replace(f, 'annotations/current', np.uint8(7))", "current is 7"},
        {"f['annotations/slot_a'][0:8] = np.frombuffer(b'[1,2,3]\\0', np.uint8)", "not a JSON object"},
    };
    for (const auto& [edit, reason] : cases) {
      QTemporaryDir dir;
      DatasetFolder dataset(dir.path().toStdString());
      const std::string path = recordEpisode(dataset, 4);
      QVERIFY(h5pyEdit(path, edit));
      const std::string before = fileBytes(path);
      try {
        readLabels(path);
        QFAIL(("labels read from a damaged block: " + edit).c_str());
      } catch (const RecorderError& e) {
        QVERIFY2(std::string(e.what()).find("labels: " + reason) != std::string::npos, e.what());
      }
      const EpisodeEntry entry = describeEpisode(path);
      QCOMPARE(nameOf(entry.status), "damaged");
      QVERIFY2(entry.problem.starts_with("labels: "), entry.problem.c_str());
      if (reason == "not a JSON object") continue;  // sound slots: a save may replace the bad text
      QVERIFY_THROWS_EXCEPTION(RecorderError, writeLabels(path, sampleLabels()));
      QVERIFY(fileBytes(path) == before);
    }
  }

  void labelDecoderRefusesWhatIsNotLabels() {
    auto decode = [](const std::string& text) {
      return decodeLabelSlot(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
    };
    QCOMPARE(decode(sampleLabels().toJson() + std::string(100, '\0')), sampleLabels());
    for (const std::string bad :
         std::vector<std::string>{"", "[1,2]", "{\"task\": 5}", "{\"tags\": [1]}", "{\"segments\": [3]}",
                                  "\xff{", std::string(1000, '[')})
      QVERIFY_THROWS_EXCEPTION(RecorderError, decode(bad));
  }

  void segmentsAreChecked() {
    QCOMPARE(validateSegments({{0.0, 1.0, "a"}}, 2.0), std::string());
    QVERIFY(!validateSegments({{1.0, 0.5, "a"}}, 2.0).empty());
    QVERIFY(!validateSegments({{0.0, 3.0, "a"}}, 2.0).empty());
    QVERIFY(!validateSegments({{0.0, 1.0, ""}}, 2.0).empty());
  }

  void trimsRoundTripAndOldLabelsReadUntrimmed() {
    const std::string old = R"({"version":1,"task":"wipe","notes":"","tags":[],"operator":"","success":true,)"
                            R"("segments":[]})";
    const EpisodeLabels before = EpisodeLabels::fromJson(old);
    QVERIFY(!before.trimStart && !before.trimEnd);
    QVERIFY(before.toJson().find("trim") == std::string::npos);  // untrimmed labels stay as they were

    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    const std::string path = recordEpisode(dataset, 7);
    EpisodeLabels labels = sampleLabels();
    labels.trimStart = 0.25;
    labels.trimEnd = 1.5;
    writeLabels(path, labels);
    QCOMPARE(readLabels(path), labels);
    labels.trimStart.reset();  // only the end trimmed
    writeLabels(path, labels);
    const EpisodeLabels back = readLabels(path);
    QVERIFY(!back.trimStart);
    QCOMPARE(back.trimEnd, std::optional<double>(1.5));
    QCOMPARE(EpisodeReader(path).summary().ticks, std::size_t(100));  // the recording keeps every tick
  }

  void badTrimsAreRefusedWithTheReason() {
    auto trim = [](std::optional<double> start, std::optional<double> end) {
      EpisodeLabels labels;
      labels.trimStart = start;
      labels.trimEnd = end;
      return labels;
    };
    const double nan = std::numeric_limits<double>::quiet_NaN();
    QCOMPARE(validateTrim(trim(0.5, 1.5), 2.0), std::string());
    QCOMPARE(validateTrim(trim(std::nullopt, std::nullopt), 2.0), std::string());
    const std::vector<std::pair<EpisodeLabels, std::string>> cases = {
        {trim(1.5, 1.5), "is not before end"},
        {trim(1.6, 0.5), "is not before end"},
        {trim(-0.1, 1.0), "before the episode"},
        {trim(0.0, 2.5), "past the episode's end"},
        {trim(2.0, std::nullopt), "past the episode's end"},
        {trim(nan, 1.0), "not a number"},
        {trim(0.0, nan), "not a number"},
    };
    for (const auto& [labels, reason] : cases) {
      const std::string problem = validateTrim(labels, 2.0);
      QVERIFY2(problem.find(reason) != std::string::npos, (problem + " / " + reason).c_str());
      QVERIFY2(problem.starts_with("trim: "), problem.c_str());
    }
    QVERIFY_THROWS_EXCEPTION(RecorderError, trimmedTicks(trim(1.0, 0.5), {0.0, 0.5, 1.0}));

    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    const std::string path = recordEpisode(dataset, 8);
    const std::string bytes = fileBytes(path);
    for (const EpisodeLabels& bad : {trim(1.0, 0.5), trim(nan, 0.5), trim(std::nullopt, -1.0)}) {
      try {
        writeLabels(path, bad);
        QFAIL("a bad trim was saved");
      } catch (const RecorderError& e) {
        QVERIFY2(std::string(e.what()).find(path + ": trim: ") == 0, e.what());
      }
    }
    QVERIFY(fileBytes(path) == bytes);  // nothing written

    auto decode = [](const std::string& text) {
      return decodeLabelSlot(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
    };
    for (const std::string wrong : {R"({"trim": 3})", R"({"trim": {"start": "1"}})", R"({"trim": [0, 1]})"})
      QVERIFY_THROWS_EXCEPTION(RecorderError, decode(wrong));
    QCOMPARE(decode(R"({"trim": {"end": 1.25}})").trimEnd, std::optional<double>(1.25));
  }

  void trimmedTicksAreTheHalfOpenRangeKept() {
    std::vector<double> stamps;
    for (int i = 0; i < 10; ++i)
      stamps.push_back(i * 0.1 + (i % 2 ? 0.004 : -0.003) * (i > 0));  // measured, with jitter
    EpisodeLabels labels;
    using Range = std::pair<std::size_t, std::size_t>;
    QCOMPARE(trimmedTicks(labels, stamps), Range(0, 10));
    labels.trimStart = 0.25;
    QCOMPARE(trimmedTicks(labels, stamps), Range(3, 10));
    labels.trimEnd = 0.6;  // tick 6 is at 0.597: kept
    QCOMPARE(trimmedTicks(labels, stamps), Range(3, 7));
    labels.trimStart.reset();
    labels.trimEnd = 0.3;  // tick 3 at 0.304: not kept
    QCOMPARE(trimmedTicks(labels, stamps), Range(0, 3));
    labels.trimStart = 0.92;  // between ticks 9 (0.904) and the end: nothing
    labels.trimEnd = 0.95;
    const Range none = trimmedTicks(labels, stamps);
    QCOMPARE(none.first, none.second);
  }

  void spanKindsComeFromTheSegmentText() {
    QCOMPARE(spanKindOf({0, 1, "recovery"}), SpanKind::Recovery);
    QCOMPARE(spanKindOf({0, 1, "Correction: dropped the cube"}), SpanKind::Correction);
    QCOMPARE(spanKindOf({0, 1, "recovery - back to the table"}), SpanKind::Recovery);
    QCOMPARE(spanKindOf({0, 1, "recoveryish"}), SpanKind::None);
    QCOMPARE(spanKindOf({0, 1, "pick up the cube"}), SpanKind::None);
    QCOMPARE(spanKindOf({0, 1, "a correction"}), SpanKind::None);
    QCOMPARE(std::string(nameOf(SpanKind::Correction)), std::string("correction"));
  }

  void humanSpansSplitMarkAndIdleTrims() {
    const std::vector<double> flags{0, 1, 1, 0, 0, 1, 1, 1}, times{0, .1, .2, .3, .4, .5, .6, .7};
    const std::vector<TimeSpan> human = humanControlSpans(flags, times, 0.1);
    QCOMPARE(human, (std::vector<TimeSpan>{{0.1, 0.3}, {0.5, 0.7 + 0.1}}));
    std::vector<Segment> segments{{0.0, 0.8, "pick"}, {0.5, 0.6, "recovery"}};
    QCOMPARE(unreviewedSpans(human, segments, 0.01), (std::vector<TimeSpan>{{0.1, 0.3}, {0.6, 0.7 + 0.1}}));
    QVERIFY(insideSpanOf(segments, SpanKind::Recovery, 0.5) &&
            !insideSpanOf(segments, SpanKind::Recovery, 0.6));
    QVERIFY(splitSegment(segments, 1, 0.55));
    QCOMPARE(segments[1], (Segment{0.5, 0.55, "recovery"}));
    QCOMPARE(segments[2], (Segment{0.55, 0.6, "recovery"}));
    QVERIFY(!splitSegment(segments, 1, 0.7));
    QCOMPARE(markedText("recovery: back to the table", SpanKind::Correction),
             std::string("correction: back to the table"));
    QCOMPARE(markedText("", SpanKind::Recovery), std::string("recovery"));
    QCOMPARE(markedText("grasp again", SpanKind::Correction), std::string("correction: grasp again"));

    EpisodeLabels labels;
    QVERIFY(setIdleTrim(labels, 0.5, 0.3, 2.0, 0.02));  // last moving tick at 1.7 s: kept
    QCOMPARE(labels.trimStart, std::optional<double>(0.5));
    QVERIFY(std::abs(*labels.trimEnd - 1.72) < 1e-9);
    QVERIFY(setIdleTrim(labels, 0.0, 0.3, 2.0, 0.02));
    QVERIFY(!labels.trimStart);
    labels.trimStart = 1.0;
    QVERIFY(!setIdleTrim(labels, 2.0, 0.0, 2.0, 0.02));      // nothing moved: all head
    QCOMPARE(labels.trimStart, std::optional<double>(1.0));  // left as it was
  }

  void concurrentIndexUpdatesLoseNothing() {
    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    std::vector<std::string> paths{recordEpisode(dataset, 4), recordEpisode(dataset, 5),
                                   recordEpisode(dataset, 6)};
    DatasetIndex index(dataset.path());
    std::vector<std::thread> writers;
    for (const std::string& path : paths)
      writers.emplace_back([&index, path] {
        for (int i = 0; i < 15; ++i)
          index.update(path);
      });
    for (auto& w : writers)
      w.join();
    auto entries = index.read();
    QCOMPARE(entries.size(), paths.size());
    for (std::size_t i = 0; i < paths.size(); ++i)
      QCOMPARE(entries[i].file, std::filesystem::path(paths[i]).filename().string());
  }
};

QTEST_GUILESS_MAIN(LabelTest)
#include "test_labels.moc"
