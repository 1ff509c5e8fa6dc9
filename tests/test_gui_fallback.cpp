// The Run view with a fallback policy against the openpi test server stalling over loopback: the banner
// says which policy drives, the figures list the switches, and Review & Label draws the fallback's band
// from the recorded /policy_source (a damaged one is reported, not drawn).
#include <QtTest>

#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <filesystem>

#include "app/gui/main_window.hpp"
#include "app/gui/review_view.hpp"
#include "app/gui/run_view.hpp"
#include "app/gui/segment_timeline.hpp"
#include "h5py_edit.hpp"
#include "recorder/episode_reader.hpp"

using namespace flywheel;
using namespace flywheel::gui;

namespace {

// The openpi test server with `args`, on a free port; its port, or 0.
int startServer(QProcess& server, const QStringList& args) {
  server.start("/usr/bin/python3", QStringList{FLYWHEEL_SOURCE_DIR "/tests/policy/openpi_test_server.py",
                                               "--port", "0", "--image-size", "0"} +
                                       args);
  if (!server.waitForReadyRead(20000)) return 0;
  const QString line = QString::fromUtf8(server.readLine()).trimmed();
  return line.startsWith("listening on ") ? line.mid(13).toInt() : 0;
}

}  // namespace

class GuiFallbackTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    static QTemporaryDir config;
    qputenv("FLYWHEEL_CONFIG_DIR", config.path().toUtf8());  // no window state from an earlier run
  }

  void theRunViewShowsWhichPolicyDrives() {
    QProcess server;
    const int port = startServer(server, {"--stall-after", "15", "--stall-seconds", "2.5"});
    QVERIFY(port > 0);
    auto stopServer = qScopeGuard([&] {
      server.kill();
      server.waitForFinished();
    });
    QTemporaryDir dir;
    MainWindow window(loadRigConfig("sim"), dir.path());
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    RunView* run = window.runView();
    window.tabs()->setCurrentWidget(run);
    run->policyEdit()->setText(QString("ws://127.0.0.1:%1").arg(port));
    run->fallbackBox()->setEditText(FLYWHEEL_SOURCE_DIR "/resources/policies/sim-pick-place.pt");
    run->secondsBox()->setValue(8);
    QTest::mouseClick(run->startButton(), Qt::LeftButton);
    QVERIFY2(run->running(), qPrintable(window.errorBanner()->text()));
    QTRY_VERIFY_WITH_TIMEOUT(run->indicator()->text() == "MAIN POLICY DRIVING", 10000);
    QTRY_VERIFY_WITH_TIMEOUT(
        run->indicator()->text().startsWith("FALLBACK DRIVING (sim-pick-place.pt): no answer"), 10000);
    if (QString shots = qEnvironmentVariable("FLYWHEEL_SCREENSHOT_DIR"); !shots.isEmpty())
      window.grab().save(shots + "/run-fallback-1280x800.png");
    QTRY_COMPARE_WITH_TIMEOUT(run->indicator()->text(), QString("MAIN POLICY DRIVING"), 10000);
    QVERIFY2(run->figures()->text().contains("2 switch(es)"), qPrintable(run->figures()->text()));
    QVERIFY(run->figures()->text().contains("→ main: 3 valid answers in a row"));
    QTRY_VERIFY_WITH_TIMEOUT(!run->running(), 15000);

    // Review & Label: the fallback's time as a band, where /policy_source has it.
    const QString episode = run->lastSavedEpisode();
    const std::vector<PolicySource> sources = EpisodeReader(episode.toStdString()).readPolicySources();
    const auto firstFallback = std::find(sources.begin(), sources.end(), PolicySource::Fallback);
    QVERIFY(firstFallback != sources.end());
    ReviewView* review = window.reviewView();
    window.tabs()->setCurrentWidget(review);
    QVERIFY(review->openEpisode(episode));
    std::vector<SegmentTimeline::SourceBand> fallback;
    for (const auto& band : review->timeline()->sourceBands())
      if (band.source == PolicySource::Fallback) fallback.push_back(band);
    QCOMPARE(fallback.size(), std::size_t(1));
    const std::vector<double> times = EpisodeReader(episode.toStdString()).readDoubles("/timestamp");
    QCOMPARE(fallback[0].start, times.at(static_cast<std::size_t>(firstFallback - sources.begin())));
    if (QString shots = qEnvironmentVariable("FLYWHEEL_SCREENSHOT_DIR"); !shots.isEmpty())
      window.grab().save(shots + "/review-fallback-1280x800.png");

    // A /policy_source that names no source: said in the status line, no bands drawn.
    const QString damaged = dir.filePath("damaged.hdf5");
    QVERIFY(QFile::copy(episode, damaged));
    QVERIFY(testing::h5pyEdit(damaged.toStdString(),
                              "replace(f, 'policy_source', np.full(f['action'].shape[0], 9, np.uint8))"));
    QSignalSpy messages(review, &ReviewView::message);
    QVERIFY(review->openEpisode(damaged));
    QVERIFY(review->timeline()->sourceBands().empty());
    bool said = false;
    for (const QList<QVariant>& m : messages)
      said = said || m[0].toString().contains("Policy sources not shown: ") &&
                         m[0].toString().contains("/policy_source holds 9 at tick 0");
    QVERIFY(said);
  }
};

QTEST_MAIN(GuiFallbackTest)
#include "test_gui_fallback.moc"
