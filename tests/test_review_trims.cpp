// The Review view's trims and human-control spans, driven as an operator would: drag the timeline's ends,
// Trim idle for several episodes, split a takeover into recovery and correction with the right-click menu,
// undo, save, and read the labels back from the files.
#include <QtTest>

#include <QMenu>
#include <QTemporaryDir>
#include <cmath>

#include "app/gui/review_view.hpp"
#include "app/gui/segment_timeline.hpp"
#include "recorder/episode_quality.hpp"
#include "recorder/episode_recorder.hpp"
#include "recorder/episode_writer.hpp"
#include "recorder/labels.hpp"
#include "sim_harness.hpp"
#include "training/training_set.hpp"

using namespace flywheel;
using namespace flywheel::gui;

namespace {

// `count` takes of `ticks` ticks on the simulated rig, the scripted operator moving the arm.
void recordSimEpisodes(const QString& folder, int count, int ticks) {
  DatasetFolder dataset(folder.toStdString());
  RigConfig config = loadRigConfig("sim");
  testing::SimHarness harness(config);
  EpisodeRecorder recorder(true);
  harness.loop->setSink(&recorder);
  for (int take = 0; take < count; ++take) {
    harness.world().resetEpisode(static_cast<unsigned>(take + 1));
    recorder.begin(dataset, EpisodeRecorder::infoFor(config, "pick and place"), ticks);
    harness.loop->runTicks(ticks);
    recorder.end(true);
  }
}

// A policy run of 100 ticks at a nominal 50 Hz that fell behind to 40 Hz (/timestamp t / 40), in which a
// human had control from tick 30 to 79: 0.75 s to 2.0 s measured (0.6 s to 1.6 s by tick / fps).
constexpr double kLaggingHz = 40.0;
void writePolicyRun(const std::string& path) {
  EpisodeInfo info;
  info.task = "pick";
  info.joints = 2;
  info.cameras = {CameraSpec{"top", 32, 24}};
  info.policy = "test.pt";
  EpisodeWriter writer(path, info);
  for (std::size_t t = 0; t < 100; ++t) {
    Observation o;
    o.tick = t;
    o.time = t / kLaggingHz;
    o.state = JointState::zeros(2);
    o.state.position = {std::sin(0.05 * t), 0.3};
    o.action = o.state.position;
    std::shared_ptr<std::uint8_t[]> pixels(new std::uint8_t[32 * 24 * 3]());
    o.frames.push_back({Image{32, 24, pixels}, o.time, t + 1});
    o.intervention = t >= 30 && t < 80;
    o.policySource = o.intervention ? PolicySource::Human : PolicySource::Main;
    o.policyAction = o.action;
    writer.pushBlocking(o);
  }
  writer.finish(true);
}

void drag(SegmentTimeline* timeline, QPoint from, QPoint to) {
  QTest::mousePress(timeline, Qt::LeftButton, Qt::NoModifier, from);
  for (int step = 1; step <= 10; ++step) {
    const QPointF at = from + (to - from) * step / 10.0;
    QMouseEvent move(QEvent::MouseMove, at, timeline->mapToGlobal(at), Qt::NoButton, Qt::LeftButton,
                     Qt::NoModifier);
    QApplication::sendEvent(timeline, &move);
  }
  QTest::mouseRelease(timeline, Qt::LeftButton, Qt::NoModifier, to);
}

// Triggers the right-click menu's action whose text starts with `text`.
bool choose(SegmentTimeline* timeline, QPoint at, const QString& text) {
  std::unique_ptr<QMenu> menu = timeline->menuAt(at);
  if (!menu) return false;
  for (QAction* action : menu->actions())
    if (action->text().startsWith(text) && action->isEnabled()) {
      action->trigger();
      return true;
    }
  return false;
}

bool near(std::optional<double> value, double expected, double tolerance) {
  return value && std::abs(*value - expected) <= tolerance;
}

}  // namespace

class ReviewTrimsTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void trimsAreSetByDraggingTheEndsAndSaved() {
    QTemporaryDir dir;
    recordSimEpisodes(dir.path(), 1, 150);  // 3 s
    DatasetFolder dataset(dir.path().toStdString());
    ReviewView view(dataset);
    view.resize(1280, 800);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QTRY_VERIFY(!view.currentPath().isEmpty());
    SegmentTimeline* timeline = view.timeline();
    const double pixel = 3.0 / (timeline->width() - 16), tolerance = 2 * pixel;
    QVERIFY(!timeline->trimStart() && !timeline->trimEnd());

    drag(timeline, {timeline->xAt(0.0), 6}, {timeline->xAt(0.5), 6});  // the start handle, in the ruler
    drag(timeline, {timeline->xAt(3.0), timeline->languageLaneY()},
         {timeline->xAt(2.4), timeline->languageLaneY()});
    QVERIFY2(near(timeline->trimStart(), 0.5, tolerance),
             qPrintable(QString::number(timeline->trimStart().value_or(-1))));
    QVERIFY2(near(timeline->trimEnd(), 2.4, tolerance),
             qPrintable(QString::number(timeline->trimEnd().value_or(-1))));
    QVERIFY(view.dirty());
    view.undo();  // the end's drag taken back, the start's kept
    QVERIFY(!timeline->trimEnd());
    QVERIFY(near(timeline->trimStart(), 0.5, tolerance));
    drag(timeline, {timeline->xAt(3.0), 6}, {timeline->xAt(2.4), 6});
    QVERIFY(view.save());
    const std::string path = view.currentPath().toStdString();
    EpisodeLabels saved = readLabels(path);
    QCOMPARE(saved.trimStart, timeline->trimStart());
    QCOMPARE(saved.trimEnd, timeline->trimEnd());
    QVERIFY(!view.dirty());

    // Dragged back past the start of the timeline, the start mark is cleared; the end stays.
    drag(timeline, {timeline->xAt(*timeline->trimStart()), 6}, {0, 6});
    QVERIFY(!timeline->trimStart());
    QVERIFY(view.save());
    saved = readLabels(path);
    QVERIFY(!saved.trimStart);
    QVERIFY(near(saved.trimEnd, 2.4, tolerance));
  }

  // Trim idle on two selected episodes: the open one gets the marks as an edit (undo takes it back), the
  // other is saved at once; both marks come from the measured idle head and tail.
  void trimIdleForSeveralEpisodes() {
    QTemporaryDir dir;
    recordSimEpisodes(dir.path(), 2, 150);
    DatasetFolder dataset(dir.path().toStdString());
    ReviewView view(dataset);
    view.resize(1280, 800);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QTRY_VERIFY(!view.currentPath().isEmpty());
    view.episodesTable()->selectAll();
    const QStringList files = view.selectedEpisodes();
    QCOMPARE(files.size(), 2);
    const QString open = view.currentPath();
    const QString other = files[0] == open ? files[1] : files[0];
    QSignalSpy messages(&view, &ReviewView::message);
    QTest::mouseClick(view.trimIdleButton(), Qt::LeftButton);
    QVERIFY2(!messages.isEmpty() && messages.last().at(0).toString().contains("of 2 episode(s), 1 saved"),
             messages.isEmpty() ? "no message" : qPrintable(messages.last().at(0).toString()));

    const EpisodeQuality quality = measureEpisode(other.toStdString());
    QVERIFY(quality.idleHeadSeconds > 0.0);
    const EpisodeLabels saved = readLabels(other.toStdString());
    QCOMPARE(saved.trimStart, std::optional<double>(quality.idleHeadSeconds));
    QVERIFY(saved.trimEnd.has_value());

    const EpisodeQuality openQuality = measureEpisode(open.toStdString());
    QCOMPARE(view.timeline()->trimStart(), std::optional<double>(openQuality.idleHeadSeconds));
    QVERIFY(!readLabels(open.toStdString()).trimStart);  // not saved yet
    QVERIFY(view.dirty());
    view.undo();
    QVERIFY(!view.timeline()->trimStart());
    QVERIFY(!view.dirty());
  }

  // A takeover in a policy run shows as a span to review, on the measured clock; split into recovery and
  // correction, one part split again and re-marked, undone once, saved, read back, and trained on: the
  // training set keeps exactly the human ticks of the correction the operator saw.
  void humanControlIsSplitIntoRecoveryAndCorrection() {
    QTemporaryDir dir;
    writePolicyRun(dir.filePath("episode_0.hdf5").toStdString());
    DatasetFolder dataset(dir.path().toStdString());
    ReviewView view(dataset);
    view.resize(1280, 800);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QTRY_VERIFY(!view.currentPath().isEmpty());
    SegmentTimeline* timeline = view.timeline();
    const int lane = timeline->controlLaneY();
    QCOMPARE(timeline->unreviewed(), (std::vector<TimeSpan>{{30 / kLaggingHz, 80 / kLaggingHz}}));
    std::vector<TimeSpan> humanBands;  // /policy_source's bands on the same measured clock
    for (const SegmentTimeline::SourceBand& band : timeline->sourceBands())
      if (band.source == PolicySource::Human) humanBands.push_back({band.start, band.end});
    QCOMPARE(humanBands, timeline->unreviewed());
    QTest::mouseClick(timeline, Qt::LeftButton, Qt::NoModifier,
                      {timeline->xAt(1.01), timeline->languageLaneY()});
    QCOMPARE(view.scrubber()->value(), 40);                  // recorded at 1.0 s: tick 40, not 50
    QVERIFY(!timeline->menuAt({timeline->xAt(0.3), lane}));  // nobody took over there: nothing to mark

    QVERIFY(choose(timeline, {timeline->xAt(1.0), lane}, "Split here"));
    QVERIFY(timeline->unreviewed().empty());
    const std::vector<Segment> split = timeline->segments();
    QCOMPARE(split.size(), std::size_t(2));
    QCOMPARE(spanKindOf(split[0]), SpanKind::Recovery);
    QCOMPARE(spanKindOf(split[1]), SpanKind::Correction);
    QCOMPARE(split[0].start, 0.75);
    QCOMPARE(split[1].end, 2.0);
    QCOMPARE(split[0].end, split[1].start);
    QVERIFY(std::abs(split[0].end - 1.0) < 0.01);

    QVERIFY(choose(timeline, {timeline->xAt(1.3), lane}, "Split here"));  // the correction, in two
    QVERIFY(choose(timeline, {timeline->xAt(1.5), lane}, "Mark as recovery"));
    QCOMPARE(timeline->segments().size(), std::size_t(3));
    QCOMPARE(spanKindOf(timeline->segments()[2]), SpanKind::Recovery);
    view.undo();
    QCOMPARE(spanKindOf(timeline->segments()[2]), SpanKind::Correction);
    QVERIFY(choose(timeline, {timeline->xAt(1.5), lane}, "Mark as recovery"));
    drag(timeline, {timeline->xAt(0.0), 6}, {timeline->xAt(0.2), 6});  // and a trim, for the screenshot
    if (QString shots = qEnvironmentVariable("FLYWHEEL_SCREENSHOT_DIR"); !shots.isEmpty())
      view.grab().save(shots + "/review-trims-and-corrections.png");
    QVERIFY(view.save());

    const EpisodeLabels saved = readLabels(view.currentPath().toStdString());
    QCOMPARE(saved.segments, timeline->segments());
    std::vector<SpanKind> kinds;
    for (const Segment& s : saved.segments)
      kinds.push_back(spanKindOf(s));
    QCOMPARE(kinds, (std::vector<SpanKind>{SpanKind::Recovery, SpanKind::Correction, SpanKind::Recovery}));
    QVERIFY(saved.trimStart.has_value());

    TrainingSetOptions options;
    options.sources = {view.currentPath().toStdString()};
    options.heldOutShare = 0.0;
    const TrainingSet set(options);
    std::vector<std::uint32_t> used, expected;
    for (const SampleRef& sample : set.trainSamples())
      used.push_back(sample.tick);
    for (std::uint32_t t = 30; t < 80; ++t)
      if (saved.segments[1].start <= t / kLaggingHz && t / kLaggingHz < saved.segments[1].end)
        expected.push_back(t);
    QVERIFY(expected.size() >= 10);
    QCOMPARE(used, expected);
  }
};

QTEST_MAIN(ReviewTrimsTest)
#include "test_review_trims.moc"
