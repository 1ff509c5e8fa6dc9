// The studio window on the simulated rig, driven by clicks and keys as an operator would.
#include <QtTest>

#include <QProcess>
#include <QTemporaryDir>
#include <filesystem>
#include <fstream>

#include "app/gui/camera_tile.hpp"
#include "app/gui/loss_curve.hpp"
#include "app/gui/main_window.hpp"
#include "app/gui/record_view.hpp"
#include "app/gui/review_view.hpp"
#include "app/gui/run_view.hpp"
#include "app/gui/segment_timeline.hpp"
#include "app/gui/setup_view.hpp"
#include "app/gui/train_dialog.hpp"
#include "devices/servo/servo_emulator.hpp"
#include "h5py_edit.hpp"
#include "policy/torchscript_policy.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/episode_recorder.hpp"
#include "recorder/labels.hpp"
#include "sim_harness.hpp"

using namespace flywheel;
using namespace flywheel::gui;

namespace {
std::unique_ptr<MainWindow> openWindow(const std::string& rig, const QTemporaryDir& dir) {
  auto window = std::make_unique<MainWindow>(loadRigConfig(rig), dir.path());
  window->resize(1280, 800);
  window->show();
  return QTest::qWaitForWindowExposed(window.get()) ? std::move(window) : nullptr;
}

// `count` teleoperated takes of `ticks` ticks on the simulated rig, from different scenes.
void recordSimEpisodes(const QTemporaryDir& dir, int count, int ticks) {
  DatasetFolder dataset(dir.path().toStdString());
  RigConfig config = loadRigConfig("sim");
  testing::SimHarness harness(config);
  EpisodeRecorder recorder(true);
  harness.loop->setSink(&recorder);
  for (int take = 0; take < count; ++take) {
    harness.world().resetEpisode(static_cast<unsigned>(take + 1));
    harness.rig->refreshSimulatedCameras();
    recorder.begin(dataset, EpisodeRecorder::infoFor(config, "pick and place"), ticks);
    harness.loop->runTicks(ticks);
    recorder.end(true);
  }
}

void saveShot(QWidget* widget, const QString& name) {
  if (QString shots = qEnvironmentVariable("FLYWHEEL_SCREENSHOT_DIR"); !shots.isEmpty())
    widget->grab().save(shots + "/" + name);
}

// Review & Label with every episode selected, Train… clicked: the dialog, set for a tiny run.
TrainDialog* openTrainDialog(MainWindow& window, int length, int unit) {
  ReviewView* review = window.reviewView();
  window.tabs()->setCurrentWidget(review);
  review->episodesTable()->selectAll();
  if (!review->trainButton()->isEnabled()) return nullptr;
  QTest::mouseClick(review->trainButton(), Qt::LeftButton);
  TrainDialog* dialog = review->trainDialog();
  if (!dialog || !QTest::qWaitForWindowExposed(dialog)) return nullptr;
  dialog->lengthBox()->setValue(length);
  dialog->unitBox()->setCurrentIndex(unit);
  dialog->horizonBox()->setValue(5);
  dialog->imageHeightBox()->setValue(24);
  dialog->imageWidthBox()->setValue(32);
  return dialog;
}
}  // namespace

class GuiTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    static QTemporaryDir config;
    qputenv("FLYWHEEL_CONFIG_DIR", config.path().toUtf8());
  }

  void recordsAnEpisodeByClicking() {
    QTemporaryDir dir;
    auto window = openWindow("sim", dir);
    QVERIFY(window);
    window->secondsBox()->setValue(1);
    window->taskEdit()->setText("put the red cube away");
    QTest::mouseClick(window->recordButton(), Qt::LeftButton);
    QVERIFY(!window->recordButton()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(!window->lastSavedEpisode().isEmpty(), 10000);
    QVERIFY(window->recordButton()->isEnabled());

    EpisodeSummary s = EpisodeReader(window->lastSavedEpisode().toStdString()).summary();
    QCOMPARE(s.ticks, std::size_t(50));
    QCOMPARE(s.task, std::string("put the red cube away"));
    QVERIFY(s.complete);
    QCOMPARE(s.cameras.size(), std::size_t(2));
    // The camera tiles were fed while recording.
    for (CameraTile* tile : window->cameraTiles())
      QVERIFY(tile->framesShown() > 5);
  }

  void keyboardShortcutsStartAndStop() {
    QTemporaryDir dir;
    auto window = openWindow("sim", dir);
    QVERIFY(window);
    window->secondsBox()->setValue(60);
    window->activateWindow();
    QTest::keyClick(window.get(), Qt::Key_R);
    QVERIFY(!window->recordButton()->isEnabled());
    QTest::qWait(500);
    QTest::keyClick(window.get(), Qt::Key_S);
    QVERIFY(!window->lastSavedEpisode().isEmpty());
    EpisodeSummary s = EpisodeReader(window->lastSavedEpisode().toStdString()).summary();
    QVERIFY2(s.ticks >= 15 && s.ticks < 60, qPrintable(QString("%1 ticks").arg(s.ticks)));
    QVERIFY(window->recordButton()->isEnabled());
  }

  void rerecordThrowsTheTakeAway() {
    QTemporaryDir dir;
    auto window = openWindow("sim", dir);
    QVERIFY(window);
    RecordView* view = window->recordView();
    view->secondsBox()->setValue(1);
    view->resetBox()->setValue(0);
    QTest::mouseClick(view->recordButton(), Qt::LeftButton);
    QTest::qWait(200);
    QTest::mouseClick(view->rerecordButton(), Qt::LeftButton);  // that take was bad: again
    QTRY_VERIFY_WITH_TIMEOUT(!view->lastSavedEpisode().isEmpty(), 10000);
    QCOMPARE(QFileInfo(view->lastSavedEpisode()).fileName(), QString("episode_0.hdf5"));
    QCOMPARE(DatasetFolder(dir.path().toStdString()).episodePaths().size(), std::size_t(1));
    QCOMPARE(EpisodeReader(view->lastSavedEpisode().toStdString()).summary().ticks, std::size_t(50));
  }

  void seriesWithResetCountdown() {
    QTemporaryDir dir;
    auto window = openWindow("sim", dir);
    QVERIFY(window);
    RecordView* view = window->recordView();
    view->secondsBox()->setValue(1);
    view->episodesBox()->setValue(2);
    view->resetBox()->setValue(1);
    QTest::mouseClick(view->recordButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(view->lastSavedEpisode().endsWith("episode_0.hdf5"), 10000);
    QVERIFY(!view->recordButton()->isEnabled());  // resetting: the series goes on by itself
    QTRY_VERIFY_WITH_TIMEOUT(view->lastSavedEpisode().endsWith("episode_1.hdf5"), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(view->recordButton()->isEnabled(), 2000);
  }

  void deviceErrorAppearsInTheWindow() {
    QTemporaryDir dir;
    auto window = openWindow("koch-emulated", dir);
    QVERIFY(window);
    QVERIFY(window->studio());
    QVERIFY(window->errorBanner()->isHidden());
    window->studio()
        ->rig()
        .emulatorFor("follower")
        ->setFaults(FaultInjection{1.0, 0.0, 0.0, 1});  // servos go quiet
    QTRY_VERIFY_WITH_TIMEOUT(window->errorBanner()->isVisible(), 5000);
    const QString text = window->errorBanner()->text();
    QVERIFY2(text.contains("servo 1 on /dev/pts/") && text.contains("no reply (timeout)"), qPrintable(text));
    // The setup view shows the arm's state too.
    QTRY_VERIFY_WITH_TIMEOUT(window->setupView()->armsTable()->item(1, 5)->text().contains("servo 1"), 3000);
  }

  void addsASegmentWithTheMouse() {
    QTemporaryDir dir;
    auto window = openWindow("sim", dir);
    QVERIFY(window);
    window->secondsBox()->setValue(2);
    QTest::mouseClick(window->recordButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!window->lastSavedEpisode().isEmpty(), 10000);

    window->tabs()->setCurrentWidget(window->reviewView());
    ReviewView* review = window->reviewView();
    QTRY_COMPARE(review->episodesTable()->rowCount(), 1);
    review->episodesTable()->selectRow(0);
    QTRY_COMPARE(review->currentPath(), window->lastSavedEpisode());
    SegmentTimeline* timeline = review->timeline();
    QTest::qWait(50);
    // Drag across the middle half of the 2 s timeline: a segment from about 0.5 s to 1.5 s.
    const int y = timeline->height() / 2, left = 8 + (timeline->width() - 16) / 4,
              right = 8 + 3 * (timeline->width() - 16) / 4;
    QTest::mousePress(timeline, Qt::LeftButton, Qt::NoModifier, QPoint(left, y));
    for (int x = left; x <= right; x += 10) {
      QMouseEvent move(QEvent::MouseMove, QPointF(x, y), timeline->mapToGlobal(QPointF(x, y)), Qt::NoButton,
                       Qt::LeftButton, Qt::NoModifier);
      QApplication::sendEvent(timeline, &move);
    }
    QTest::mouseRelease(timeline, Qt::LeftButton, Qt::NoModifier, QPoint(right, y));
    QCOMPARE(timeline->segments().size(), std::size_t(1));
    timeline->setSelectedText("reach for the cube");
    review->successBox()->setCurrentIndex(2);  // failure
    QVERIFY(review->dirty());
    QSignalSpy messages(review, &ReviewView::message);
    QTest::mouseClick(review->saveButton(), Qt::LeftButton);
    QVERIFY2(!review->dirty(),
             messages.isEmpty() ? "no message" : qPrintable(messages.last().at(0).toString()));

    EpisodeLabels labels = readLabels(window->lastSavedEpisode().toStdString());
    QCOMPARE(labels.segments.size(), std::size_t(1));
    QCOMPARE(labels.segments[0].text, std::string("reach for the cube"));
    QVERIFY2(std::abs(labels.segments[0].start - 0.5) < 0.1 && std::abs(labels.segments[0].end - 1.5) < 0.1,
             qPrintable(QString("%1 .. %2").arg(labels.segments[0].start).arg(labels.segments[0].end)));
    QCOMPARE(labels.success, std::optional<bool>(false));
    QCOMPARE(review->episodesTable()->item(0, 6)->text(), QString("1"));  // the browser shows the new count

    // Undo of unsaved edits: delete the selected segment, then take it back.
    QCOMPARE(timeline->selected(), 0);
    timeline->setFocus();
    QTest::keyClick(timeline, Qt::Key_Delete);
    QCOMPARE(timeline->segments().size(), std::size_t(0));
    QVERIFY(review->dirty());
    review->undo();
    QCOMPARE(timeline->segments().size(), std::size_t(1));
    QVERIFY(!review->dirty());
  }

  // The Run Policy view: a TorchScript model drives the simulated arm, the operator takes over with T and
  // hands back with the button; the recorded run says when the human was in control.
  void opensOnAFolderWhoseFirstEpisodeIsDamaged() {
    QTemporaryDir dir;
    {
      DatasetFolder dataset(dir.path().toStdString());
      RigConfig config = loadRigConfig("sim");
      testing::SimHarness harness(config);
      EpisodeRecorder recorder(true);
      harness.loop->setSink(&recorder);
      for (int take = 0; take < 2; ++take) {
        recorder.begin(dataset, EpisodeRecorder::infoFor(config, "stack"), 20);
        harness.loop->runTicks(20);
        recorder.end(true);
      }
    }
    const QString damaged = dir.filePath("episode_0.hdf5"), good = dir.filePath("episode_1.hdf5");
    QVERIFY(testing::h5pyEdit(damaged.toStdString(), "del f['observations/qpos']"));
    auto window = openWindow("sim", dir);  // used to refuse to start: "no dataset /observations/qpos"
    QVERIFY(window);
    ReviewView* review = window->reviewView();
    QCOMPARE(review->episodesTable()->rowCount(), 2);
    QCOMPARE(review->episodesTable()->item(0, 1)->text(), QString("damaged"));
    QCOMPARE(review->episodesTable()->item(0, 3)->text(), QString("no dataset /observations/qpos"));
    QVERIFY(review->currentPath().isEmpty());  // the damaged episode was not opened
    QVERIFY(!review->openEpisode(damaged));
    review->episodesTable()->selectRow(1);
    QTRY_COMPARE(review->currentPath(), good);
    QCOMPARE(review->episodesTable()->item(1, 1)->text(), QString("complete"));
    {  // a take being written is listed as such and not opened
      auto writer = DatasetFolder(dir.path().toStdString())
                        .createEpisode(EpisodeRecorder::infoFor(loadRigConfig("sim"), "stack"));
      review->reloadEpisodes();
      QCOMPARE(review->episodesTable()->item(2, 1)->text(), QString("recording"));
      QVERIFY(!review->openEpisode(QString::fromStdString(writer->path())));
    }
  }

  // A dataset whose index cannot be replaced (a full disk: the temporary file is /dev/full) still opens
  // in the Review view, which says so once and leaves index.json as it was.
  void reviewSaysOnceWhenTheIndexCannotBeWritten() {
    QTemporaryDir dir;
    DatasetFolder dataset(dir.path().toStdString());
    const std::string index = dir.filePath("index.json").toStdString();
    std::ofstream(index) << "{}";
    std::filesystem::create_symlink("/dev/full", index + ".tmp");
    ReviewView review(dataset);
    QSignalSpy messages(&review, &ReviewView::message);
    QTRY_COMPARE(messages.count(), 1);
    QVERIFY2(messages.at(0).at(0).toString().contains("index.json left as it was"),
             qPrintable(messages.at(0).at(0).toString()));
    std::filesystem::create_symlink("/dev/full", index + ".tmp");
    review.reloadEpisodes();
    QTest::qWait(50);
    QCOMPARE(messages.count(), 1);
    QCOMPARE(testing::fileBytes(index), std::string("{}"));
  }

  void runsAPolicyAndTakesOver() {
    QTemporaryDir dir;
    const QString model = dir.filePath("policy.pt");
    QProcess python;
    python.start("/usr/bin/python3", {FLYWHEEL_SOURCE_DIR "/tests/policy/make_test_model.py", model});
    QVERIFY(python.waitForFinished(120000) && python.exitCode() == 0);
    auto window = openWindow("sim", dir);
    QVERIFY(window);
    RunView* run = window->runView();
    window->tabs()->setCurrentWidget(run);
    run->policyEdit()->setText(model);
    run->secondsBox()->setValue(6);
    QTest::mouseClick(run->startButton(), Qt::LeftButton);
    QVERIFY(run->running());
    QTRY_VERIFY_WITH_TIMEOUT(run->indicator()->text() == "POLICY DRIVING", 10000);
    QTest::qWait(1500);  // a few chunks on the timeline
    if (QString shots = qEnvironmentVariable("FLYWHEEL_SCREENSHOT_DIR"); !shots.isEmpty())
      window->grab().save(shots + "/run-policy-1280x800.png");
    QCOMPARE(window->studio()->loop().status().mode, ControlMode::Policy);
    window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(window.get()));
    QTest::keyClick(window.get(), Qt::Key_T);
    QTRY_VERIFY_WITH_TIMEOUT(run->indicator()->text().startsWith("HUMAN IN CONTROL (key)"), 5000);
    QCOMPARE(window->studio()->loop().status().mode, ControlMode::Intervention);
    QTest::qWait(800);
    if (QString shots = qEnvironmentVariable("FLYWHEEL_SCREENSHOT_DIR"); !shots.isEmpty())
      window->grab().save(shots + "/run-takeover-1280x800.png");
    QTest::mouseClick(run->takeoverButton(), Qt::LeftButton);  // now reads "Hand back"
    QTRY_VERIFY_WITH_TIMEOUT(run->indicator()->text() == "POLICY DRIVING", 5000);
    QVERIFY(run->figures()->text().contains("1 takeover(s)"));
    QTRY_VERIFY_WITH_TIMEOUT(!run->running(), 15000);  // the run length ends it
    QVERIFY(run->startButton()->isEnabled());
    QTRY_COMPARE(window->studio()->loop().status().mode, ControlMode::Teleop);

    EpisodeReader reader(run->lastSavedEpisode().toStdString());
    EpisodeSummary s = reader.summary();
    QCOMPARE(s.ticks, std::size_t(300));
    QCOMPARE(s.interventions, 1);
    QCOMPARE(reader.readDoubles("/policy_action").size(), std::size_t(300 * 7));
  }

  void aPolicyThatCannotLoadIsReportedInTheBanner() {
    QTemporaryDir dir;
    auto window = openWindow("sim", dir);
    QVERIFY(window);
    RunView* run = window->runView();
    window->tabs()->setCurrentWidget(run);
    run->policyEdit()->setText(dir.filePath("missing.pt"));
    QTest::mouseClick(run->startButton(), Qt::LeftButton);
    QVERIFY(!run->running());
    QVERIFY(window->errorBanner()->isVisible());
    QVERIFY2(window->errorBanner()->text().contains("missing.pt: no such model file"),
             qPrintable(window->errorBanner()->text()));
    QTRY_COMPARE(window->studio()->loop().status().mode, ControlMode::Teleop);
  }

  // The bundled policies ($FLYWHEEL_POLICIES first) are offered by name, and a name runs.
  void runViewOffersTheBundledPolicies() {
    QTemporaryDir dir;
    QProcess python;
    python.start("/usr/bin/python3",
                 {FLYWHEEL_SOURCE_DIR "/tests/policy/make_test_model.py", dir.filePath("sim-test.pt")});
    QVERIFY(python.waitForFinished(120000) && python.exitCode() == 0);
    qputenv("FLYWHEEL_POLICIES", dir.path().toUtf8());
    auto unset = qScopeGuard([] { qunsetenv("FLYWHEEL_POLICIES"); });
    auto window = openWindow("sim", dir);
    QVERIFY(window);
    RunView* run = window->runView();
    QMenu* menu = run->bundledButton()->menu();
    Q_EMIT menu->aboutToShow();
    QAction* offered = nullptr;
    for (QAction* action : menu->actions())
      if (action->text() == "sim-test") offered = action;
    QVERIFY(offered);
    offered->trigger();
    QCOMPARE(run->policyEdit()->text(), QString("sim-test"));
    run->recordBox()->setChecked(false);
    QTest::mouseClick(run->startButton(), Qt::LeftButton);
    QVERIFY2(run->running(), qPrintable(window->errorBanner()->text()));
    QCOMPARE(run->session()->describe(), std::string("sim-test.pt"));
    run->stop();
  }

  void setupListsArmsAndReconnects() {
    QTemporaryDir dir;
    auto window = openWindow("so100-emulated", dir);
    QVERIFY(window);
    window->tabs()->setCurrentIndex(0);
    QTableWidget* arms = window->setupView()->armsTable();
    QCOMPARE(arms->rowCount(), 2);
    QCOMPARE(arms->item(1, 3)->text(), QString("sts3215"));
    QTRY_VERIFY_WITH_TIMEOUT(arms->item(0, 5)->text().startsWith("connected"), 3000);
    // The views are rebuilt around the new rig: the old ones are gone. (Comparing Studio addresses
    // fails by chance when the new Studio lands where the freed one was.)
    QPointer<RecordView> oldRecordView = window->recordView();
    QTest::mouseClick(window->setupView()->findChild<QPushButton*>("applyButton"), Qt::LeftButton);
    QVERIFY(window->studio());
    QVERIFY(oldRecordView.isNull());
    QVERIFY(window->recordView());  // a new rig, connected
    QTRY_VERIFY_WITH_TIMEOUT(window->setupView()->armsTable()->item(0, 5)->text().startsWith("connected"),
                             3000);
  }

  // Train… on the episodes selected in Review & Label: the damaged one is skipped with its reason, the
  // loss is drawn per epoch, the model saved loads as a policy for the rig, and "Use in Run Policy" puts
  // it in the Run view.
  void trainsTheSelectedEpisodesAndOffersTheModel() {
    QTemporaryDir dir;
    recordSimEpisodes(dir, 3, 30);
    QVERIFY(testing::h5pyEdit(dir.filePath("episode_2.hdf5").toStdString(), "del f['observations/qpos']"));
    auto window = openWindow("sim", dir);
    QVERIFY(window);
    ReviewView* review = window->reviewView();
    window->tabs()->setCurrentWidget(review);
    review->episodesTable()->selectRow(2);  // the damaged one alone: nothing to train on
    QVERIFY(!review->trainButton()->isEnabled());
    TrainDialog* dialog = openTrainDialog(*window, 2, 0);
    QVERIFY(dialog);
    QCOMPARE(review->selectedEpisodes().size(), qsizetype(3));
    QVERIFY2(dialog->outputEdit()->text().startsWith(dir.filePath("models/policy-")),
             qPrintable(dialog->outputEdit()->text()));
    saveShot(review, "review-train-1280x800.png");
    dialog->advancedButton()->setChecked(true);
    saveShot(dialog, "train-dialog-settings.png");
    QTest::mouseClick(dialog->startButton(), Qt::LeftButton);
    QVERIFY(dialog->running());
    QVERIFY(!dialog->startButton()->isEnabled() && !dialog->outputEdit()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->running(), 60000);
    saveShot(dialog, "train-dialog-finished.png");
    const QString log = dialog->log()->toPlainText();
    QVERIFY2(dialog->resultLabel()->text().startsWith("Finished after 2 epoch(s)"),
             qPrintable(dialog->resultLabel()->text() + "\n" + log));
    QVERIFY2(log.contains("skipped episode_2.hdf5: damaged") && log.contains("epoch 2/2"), qPrintable(log));
    QCOMPARE(dialog->lossCurve()->epochs(), std::size_t(2));
    QCOMPARE(dialog->overallBar()->value(), 1000);
    const QString model = dialog->modelPath();
    QCOMPARE(model, dialog->outputEdit()->text());
    QVERIFY(dialog->resultLabel()->text().contains(model));
    try {
      TorchScriptPolicy policy(model.toStdString(), PolicyRigSpec::of(window->studio()->config()));
      QCOMPARE(policy.contract().horizon, 5);
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }

    QVERIFY(dialog->useButton()->isEnabled());
    QTest::mouseClick(dialog->useButton(), Qt::LeftButton);
    QCOMPARE(window->runView()->policyEdit()->text(), model);
    QCOMPARE(window->tabs()->currentWidget(), static_cast<QWidget*>(window->runView()));
    QTRY_VERIFY(!review->trainDialog());  // closed and gone
  }

  // Cancel mid-run: the dialog says so at once (no hang) and the best model so far is kept.
  void cancellingTrainingKeepsTheBestModel() {
    QTemporaryDir dir;
    recordSimEpisodes(dir, 2, 30);
    auto window = openWindow("sim", dir);
    QVERIFY(window);
    TrainDialog* dialog = openTrainDialog(*window, 5, 1);  // 5 minutes
    QVERIFY(dialog);
    QTest::mouseClick(dialog->startButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(dialog->lossCurve()->epochs() >= 1, 30000);
    QVERIFY(dialog->overallBar()->value() < 500);
    saveShot(dialog, "train-dialog-running.png");
    QElapsedTimer cancelled;
    cancelled.start();
    QTest::keyClick(dialog, Qt::Key_Escape);  // as Cancel training: the dialog stays to report
    QVERIFY(dialog->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->running(), 10000);
    QVERIFY2(cancelled.elapsed() < 5000, qPrintable(QString("%1 ms").arg(cancelled.elapsed())));
    QVERIFY2(dialog->resultLabel()->text().startsWith("Cancelled after"),
             qPrintable(dialog->resultLabel()->text()));
    QVERIFY(QFileInfo::exists(dialog->modelPath()));
    QVERIFY(dialog->useButton()->isEnabled());
    QTest::mouseClick(dialog->cancelButton(), Qt::LeftButton);  // nothing to cancel now: no effect
    QVERIFY(dialog->isVisible());
  }

  // Closing the studio mid-training cancels the worker and waits for it: no hang, no crash from its
  // last reports reaching a dialog that is gone.
  void closingTheWindowWhileTrainingStopsTheWorker() {
    QTemporaryDir dir;
    recordSimEpisodes(dir, 2, 30);
    auto window = openWindow("sim", dir);
    QVERIFY(window);
    TrainDialog* dialog = openTrainDialog(*window, 5, 1);
    QVERIFY(dialog);
    QTest::mouseClick(dialog->startButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(dialog->epochBar()->value() > 0, 30000);  // mid-epoch
    QElapsedTimer closing;
    closing.start();
    window.reset();
    QVERIFY2(closing.elapsed() < 5000, qPrintable(QString("%1 ms").arg(closing.elapsed())));
    QTest::qWait(100);  // any report still queued is dropped
  }
};

// Defined after the class: records a short episode through the window first.
QTEST_MAIN(GuiTest)
#include "test_gui.moc"
