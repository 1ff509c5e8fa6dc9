// The studio window on the simulated rig, driven by clicks and keys as an operator would.
#include <QtTest>

#include <QTemporaryDir>

#include "app/gui/camera_tile.hpp"
#include "app/gui/main_window.hpp"
#include "recorder/episode_reader.hpp"

using namespace flywheel;
using namespace flywheel::gui;

class GuiTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void recordsAnEpisodeByClicking() {
    QTemporaryDir dir;
    MainWindow window(loadRigConfig("sim"), dir.path());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.secondsBox()->setValue(1);
    window.taskEdit()->setText("put the red cube away");
    QTest::mouseClick(window.recordButton(), Qt::LeftButton);
    QVERIFY(!window.recordButton()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(!window.lastSavedEpisode().isEmpty(), 10000);
    QVERIFY(window.recordButton()->isEnabled());

    EpisodeSummary s = EpisodeReader(window.lastSavedEpisode().toStdString()).summary();
    QCOMPARE(s.ticks, std::size_t(50));
    QCOMPARE(s.task, std::string("put the red cube away"));
    QVERIFY(s.complete);
    QCOMPARE(s.cameras.size(), std::size_t(2));
    // The camera tiles were fed while recording.
    for (CameraTile* tile : window.cameraTiles())
      QVERIFY(tile->framesShown() > 5);
  }

  void keyboardShortcutsStartAndStop() {
    QTemporaryDir dir;
    MainWindow window(loadRigConfig("sim"), dir.path());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.secondsBox()->setValue(60);
    window.activateWindow();
    QTest::keyClick(&window, Qt::Key_R);
    QVERIFY(!window.recordButton()->isEnabled());
    QTest::qWait(500);
    QTest::keyClick(&window, Qt::Key_S);
    QVERIFY(!window.lastSavedEpisode().isEmpty());
    EpisodeSummary s = EpisodeReader(window.lastSavedEpisode().toStdString()).summary();
    QVERIFY2(s.ticks >= 15 && s.ticks < 60, qPrintable(QString("%1 ticks").arg(s.ticks)));
    QVERIFY(window.recordButton()->isEnabled());
  }
};

QTEST_MAIN(GuiTest)
#include "test_gui.moc"
