// Review view, episode quality: the verdict column with its reasons on hover, the verdict filter, and the
// joint plot's idle head and tail, on takes written through the real writer to be good, check and bad.
#include <QtTest>

#include <QTemporaryDir>
#include <functional>

#include "app/gui/joint_plot.hpp"
#include "app/gui/review_view.hpp"
#include "recorder/dataset_folder.hpp"
#include "recorder/episode_writer.hpp"

using namespace flywheel;
using namespace flywheel::gui;

namespace {

const char* kRig =
    "name: q\ncontrol_rate_hz: 50\narms:\n"
    "  - {name: f, role: follower, bus: sim, joints: [{name: waist, id: 1, min: -3, max: 3}]}\n";

// 500 ticks of one joint, still at 0 for `idle` ticks at each end, at `interval` seconds per tick.
void writeTake(const std::string& path, double interval, std::size_t idle) {
  EpisodeInfo info;
  info.task = "t";
  info.fps = 50.0;
  info.sim = true;
  info.rigName = "q";
  info.rigConfigText = kRig;
  info.joints = 1;
  EpisodeWriter writer(path, info);
  for (std::size_t k = 0; k < 500; ++k) {
    Observation o;
    o.tick = k;
    o.time = interval * static_cast<double>(k);
    o.state = JointState::zeros(1);
    const bool moving = k >= idle && k < 500 - idle;  // back and forth by 0.1 rad each tick
    o.state.position = {moving ? (k % 2 ? 0.5 : 0.6) : 0.0};
    o.action = o.state.position;
    writer.pushBlocking(o);
  }
  writer.finish(true);
}

int column(const QTableWidget* table, const QString& header) {
  for (int c = 0; c < table->columnCount(); ++c)
    if (table->horizontalHeaderItem(c)->text() == header) return c;
  return -1;
}

QStringList visibleVerdicts(const QTableWidget* table) {
  QStringList verdicts;
  const int c = column(table, "Verdict");
  for (int row = 0; row < table->rowCount(); ++row)
    if (!table->isRowHidden(row)) verdicts << table->item(row, c)->text();
  verdicts.sort();
  return verdicts;
}

}  // namespace

class GuiQualityTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void verdictColumnFilterAndIdleShading() {
    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    writeTake(dir.filePath("episode_0.hdf5").toStdString(), 0.02, 50);   // good: 1 s idle each end
    writeTake(dir.filePath("episode_1.hdf5").toStdString(), 0.025, 0);   // bad: 40 of 50 Hz
    writeTake(dir.filePath("episode_2.hdf5").toStdString(), 0.02, 200);  // check: 4 s idle each end
    ReviewView review(dataset);
    QTableWidget* table = review.episodesTable();
    QCOMPARE(table->rowCount(), 3);
    QCOMPARE(visibleVerdicts(table), (QStringList{"bad", "check", "good"}));
    const int verdict = column(table, "Verdict");
    QVERIFY(verdict >= 0);
    QVERIFY2(table->item(1, verdict)->toolTip().contains("mean rate 40.0 of 50 Hz, under 84%"),
             qPrintable(table->item(1, verdict)->toolTip()));
    QVERIFY(table->item(2, verdict)->toolTip().contains("idle 4.0 s at the start"));

    QComboBox* filter = review.verdictFilter();
    filter->setCurrentIndex(filter->findData("bad"));
    QCOMPARE(visibleVerdicts(table), QStringList{"bad"});
    filter->setCurrentIndex(filter->findData("check"));
    QCOMPARE(visibleVerdicts(table), QStringList{"check"});
    review.reloadEpisodes();  // the filter holds across a reload
    QCOMPARE(visibleVerdicts(table), QStringList{"check"});
    filter->setCurrentIndex(0);
    QCOMPARE(visibleVerdicts(table).size(), 3);

    // 200 of 499 tick intervals still at each end of episode 2.
    QVERIFY(review.openEpisode(dir.filePath("episode_2.hdf5")));
    QVERIFY(std::abs(review.jointPlot()->idleHead() - 200.0 / 499.0) < 1e-9);
    QVERIFY(std::abs(review.jointPlot()->idleTail() - 200.0 / 499.0) < 1e-9);
    QVERIFY(review.openEpisode(dir.filePath("episode_1.hdf5")));  // moving from its first tick
    QVERIFY(std::abs(review.jointPlot()->idleHead() - 1.0 / 499.0) < 1e-9);
    QVERIFY(std::abs(review.jointPlot()->idleTail() - 1.0 / 499.0) < 1e-9);
  }
};

QTEST_MAIN(GuiQualityTest)
#include "test_gui_quality.moc"
