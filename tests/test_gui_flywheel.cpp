// The flywheel's loop in the window on the simulated rig: the Run view runs a policy that cannot do the
// task with the scripted operator supervising; the operator takes over through the leader (the banner says
// why), hands back, and the saved run carries each correction as a labelled segment that Review & Label
// shows in its human-control lane, ready for training.
#include <QtTest>

#include <QProcess>
#include <QTemporaryDir>

#include "app/gui/main_window.hpp"
#include "app/gui/review_view.hpp"
#include "app/gui/run_view.hpp"
#include "app/gui/segment_timeline.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/labels.hpp"

using namespace flywheel;
using namespace flywheel::gui;

class GuiFlywheelTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    static QTemporaryDir config;
    qputenv("FLYWHEEL_CONFIG_DIR", config.path().toUtf8());  // no window state from an earlier run
  }

  void theScriptedOperatorCorrectsARunInTheWindow() {
    QTemporaryDir dir;
    // A model whose actions stay near the state: it never reaches the cube, so the operator must step in.
    const QString model = dir.filePath("policy.pt");
    QProcess python;
    python.start("/usr/bin/python3", {FLYWHEEL_SOURCE_DIR "/tests/policy/make_test_model.py", model});
    QVERIFY(python.waitForFinished(120000) && python.exitCode() == 0);
    MainWindow window(loadRigConfig("sim"), dir.path() + "/data");
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    RunView* run = window.runView();
    window.tabs()->setCurrentWidget(run);
    QVERIFY(run->supervisorBox()->isEnabled());  // a simulated rig
    run->policyEdit()->setText(model);
    run->supervisorBox()->setChecked(true);
    run->secondsBox()->setValue(14);
    QTest::mouseClick(run->startButton(), Qt::LeftButton);
    QVERIFY2(run->running(), qPrintable(window.errorBanner()->text()));
    QVERIFY(!run->supervisorBox()->isEnabled());  // fixed for the run

    QTRY_VERIFY_WITH_TIMEOUT(run->indicator()->text().startsWith("HUMAN IN CONTROL (scripted operator: "),
                             10000);
    QCOMPARE(window.studio()->loop().status().mode, ControlMode::Intervention);
    QTest::qWait(1000);
    if (QString shots = qEnvironmentVariable("FLYWHEEL_SCREENSHOT_DIR"); !shots.isEmpty())
      window.grab().save(shots + "/run-supervisor-1280x800.png");
    QVERIFY2(run->figures()->text().contains("Scripted operator: 1 correction(s)"),
             qPrintable(run->figures()->text()));
    // The operator hands back through the blend; the policy drives again.
    QTRY_VERIFY_WITH_TIMEOUT(run->indicator()->text() == "POLICY DRIVING", 15000);
    QTRY_VERIFY_WITH_TIMEOUT(!run->running(), 20000);  // the run length ends it
    QVERIFY(run->supervisorBox()->isEnabled());

    // The saved run: its interventions, and one "correction: <reason>" segment per takeover.
    const std::string episode = run->lastSavedEpisode().toStdString();
    const EpisodeSummary summary = EpisodeReader(episode).summary();
    QVERIFY(summary.interventions >= 1);
    std::vector<Segment> corrections;
    for (const Segment& s : readLabels(episode).segments)
      if (s.text.starts_with("correction: ")) corrections.push_back(s);
    QCOMPARE(static_cast<int>(corrections.size()), summary.interventions);
    QVERIFY2(
        corrections[0].text == "correction: no progress" || corrections[0].text == "correction: off the plan",
        corrections[0].text.c_str());

    // Review & Label shows them on the timeline.
    ReviewView* review = window.reviewView();
    window.tabs()->setCurrentWidget(review);
    QVERIFY(review->openEpisode(run->lastSavedEpisode()));
    int shown = 0;
    for (const Segment& s : review->timeline()->segments())
      shown += s.text.starts_with("correction: ") ? 1 : 0;
    QCOMPARE(shown, summary.interventions);
    if (QString shots = qEnvironmentVariable("FLYWHEEL_SCREENSHOT_DIR"); !shots.isEmpty()) {
      QTest::qWait(1500);  // the frames are decoded off the GUI thread
      window.grab().save(shots + "/review-corrections-1280x800.png");
    }
  }
};

QTEST_MAIN(GuiFlywheelTest)
#include "test_gui_flywheel.moc"
