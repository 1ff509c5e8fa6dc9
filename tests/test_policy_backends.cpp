// The two real policy back ends against peers we did not write: TorchScript models made by python3-torch
// (checked against the actions python computes), and a server speaking openpi's websocket protocol.
#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <thread>

#include "policy/chunk_executor.hpp"
#include "policy/openpi_client.hpp"
#include "policy/torchscript_policy.hpp"
#include "policy_test_helpers.hpp"
#include "sim_harness.hpp"

using namespace flywheel;
using namespace flywheel::testing;

namespace {

const QString kPython = "/usr/bin/python3";
const QString kScripts = QStringLiteral(FLYWHEEL_SOURCE_DIR "/tests/policy/");

Image uniformImage(int width, int height, std::array<int, 3> rgb) {
  auto pixels =
      std::shared_ptr<std::uint8_t[]>(new std::uint8_t[static_cast<std::size_t>(width * height * 3)]);
  for (int p = 0; p < width * height; ++p)
    for (int c = 0; c < 3; ++c)
      pixels[static_cast<std::size_t>(p * 3 + c)] =
          static_cast<std::uint8_t>(rgb[static_cast<std::size_t>(c)]);
  return {width, height, pixels};
}

Observation observationWith(const JointVector& state, std::vector<Image> images) {
  Observation o;
  o.state = JointState::zeros(state.size());
  o.state.position = state;
  for (Image& image : images)
    o.frames.push_back({image, 0.0, 1});
  return o;
}

// Runs make_test_model.py; returns the model's path.
QString makeModel(const QTemporaryDir& dir, const QString& variant, QStringList extra = {}) {
  const QString path = dir.filePath(variant + ".pt");
  QProcess python;
  python.start(kPython, QStringList{kScripts + "make_test_model.py", path, "--variant", variant} + extra);
  if (!python.waitForFinished(120000) || python.exitCode() != 0)
    qFatal("make_test_model.py failed: %s", python.readAllStandardError().constData());
  return path;
}

std::string loadError(const QString& path, const PolicyRigSpec& rig) {
  try {
    TorchScriptPolicy policy(path.toStdString(), rig);
  } catch (const PolicyError& e) {
    return e.what();
  }
  return "(loaded)";
}

// The openpi test server in a process of its own, killed at the end.
struct TestServer {
  QProcess process;
  int port = 0;
  explicit TestServer(QStringList args, int fixedPort = 0) {
    args.prepend(kScripts + "openpi_test_server.py");
    args << "--port" << QString::number(fixedPort);
    process.start(kPython, args);
    if (!process.waitForStarted(10000)) qFatal("cannot start the test server");
    QByteArray out;
    while (!out.contains('\n') && process.waitForReadyRead(20000))
      out += process.readAllStandardOutput();
    if (!out.startsWith("listening on "))
      qFatal("test server: %s", process.readAllStandardError().constData());
    port = out.mid(13).trimmed().toInt();
  }
  ~TestServer() { kill(); }
  void kill() {
    if (process.state() == QProcess::NotRunning) return;
    process.kill();  // SIGKILL: the server dies mid-run, as a crashed GPU box would
    process.waitForFinished(5000);
  }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port); }
};

std::string inferError(Policy& policy, const Observation& observation) {
  try {
    policy.infer(observation, "x");
  } catch (const PolicyError& e) {
    return e.what();
  }
  return "(answered)";
}

const PolicyRigSpec kSimRig{7, {"top", "front"}, 50.0};

}  // namespace

class PolicyBackendsTest : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

 private Q_SLOTS:
  // The same model, the same input: LibTorch in the studio and python3-torch agree on the actions,
  // normalisation, letterboxing and un-normalisation included; also for a joint whose statistics have a
  // standard deviation of 0 (it never moved in the training data): floored to 0.01, as ACT does, not inf.
  void torchScriptMatchesPythonTorch_data() {
    QTest::addColumn<QStringList>("extra");
    QTest::newRow("good") << QStringList{};
    QTest::newRow("zero std") << QStringList{"--zero-std-joint", "2"};
  }
  void torchScriptMatchesPythonTorch() {
    QFETCH(QStringList, extra);
    const QString expectedPath = dir_.filePath("expected.json");
    const QString model = makeModel(dir_, "good", QStringList{"--expected", expectedPath} + extra);
    QFile file(expectedPath);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject expected = QJsonDocument::fromJson(file.readAll()).object();
    JointVector state;
    for (const QJsonValue& v : expected["state"].toArray())
      state.push_back(v.toDouble());
    const int size = expected["image_size"].toArray()[0].toInt();
    std::vector<Image> images;
    for (const QJsonValue& c : expected["colours"].toArray()) {
      QJsonArray rgb = c.toArray();
      images.push_back(uniformImage(size, size, {rgb[0].toInt(), rgb[1].toInt(), rgb[2].toInt()}));
    }
    TorchScriptPolicy policy(model.toStdString(), kSimRig);
    QCOMPARE(policy.contract().horizon, 10);
    PolicyOutput out = policy.infer(observationWith(state, images), "pick up the cube");
    QCOMPARE(out.actions.horizon, 10);
    QCOMPARE(out.actions.joints, 7);
    const QJsonArray rows = expected["actions"].toArray();
    for (int i = 0; i < 10; ++i)
      for (int j = 0; j < 7; ++j) {
        const double want = rows[i].toArray()[j].toDouble();
        const double got = out.actions.values[static_cast<std::size_t>(i * 7 + j)];
        QVERIFY2(std::abs(got - want) < 1e-4,
                 qPrintable(QString("step %1 joint %2: %3 vs python %4").arg(i).arg(j).arg(got).arg(want)));
      }
    QVERIFY(out.timing.forward > 0.0);
    QVERIFY(out.timing.total >= out.timing.preprocess + out.timing.forward);
    QCOMPARE(policy.notes().size(), extra.isEmpty() ? std::size_t(0) : std::size_t(2));  // state and action
    if (!extra.isEmpty())
      QVERIFY2(policy.notes()[0].find("state_std of joint 2 is 0") != std::string::npos,
               policy.notes()[0].c_str());
  }

  void modelsThatDoNotFitTheRigAreRefused() {
    QVERIFY2(loadError(makeModel(dir_, "wrong-shape"), kSimRig)
                     .find("the model returned [1, 10, 6], its flywheel.json "
                           "promises [1, 10, 7]") != std::string::npos,
             loadError(makeModel(dir_, "wrong-shape"), kSimRig).c_str());
    QVERIFY(loadError(makeModel(dir_, "wrong-joints"), kSimRig)
                .find("takes a state of 6 and acts on 6 joints; this "
                      "rig's followers have 7") != std::string::npos);
    QVERIFY(loadError(makeModel(dir_, "no-metadata"), kSimRig).find("no flywheel.json inside the model") !=
            std::string::npos);
    const std::string missingCamera =
        loadError(makeModel(dir_, "good"), PolicyRigSpec{7, {"top", "side"}, 50.0});
    QVERIFY2(missingCamera.find("needs camera 'front'; the rig has top, side") != std::string::npos,
             missingCamera.c_str());
    QFile junk(dir_.filePath("junk.pt"));
    QVERIFY(junk.open(QIODevice::WriteOnly));
    junk.write("not a model");
    junk.close();
    QVERIFY(loadError(junk.fileName(), kSimRig).find("not a TorchScript model LibTorch can load") !=
            std::string::npos);
    QVERIFY(loadError(dir_.filePath("absent.pt"), kSimRig).find("no such model file") != std::string::npos);
    const std::string negativeStd =
        loadError(makeModel(dir_, "good", {"--negative-std-joint", "3"}), kSimRig);
    QVERIFY2(negativeStd.find("flywheel.json: state_std of joint 3 is -1: a standard deviation must be a "
                              "finite number >= 0") != std::string::npos,
             negativeStd.c_str());
  }

  // A model that answers NaN is refused at run time and the robot holds.
  void aNaNModelIsHeld() {
    TorchScriptPolicy policy(makeModel(dir_, "nan", {"--cameras", ""}).toStdString(), kSimRig);  // state only
    ManualClock clock;
    ExecutorOptions options{{ChunkMode::Synchronous, 5}};
    options.lockstep = true;
    ChunkExecutor executor(policy, {}, 7, options, clock, "");
    QVERIFY(!executor.nextAction(TickInput(0, JointVector(7, 0.1))));
    QCOMPARE(executor.status().health, PolicyHealth::Holding);
    QVERIFY2(executor.status().reason.find("NaN at step 0, joint 0") != std::string::npos,
             executor.status().reason.c_str());
  }

  // A full round trip: letterboxed CHW uint8 images under the rig's camera names, float32 state, the prompt;
  // the reply's [H, J] actions come back as sent.
  void openPiRoundTrip() {
    const QString log = dir_.filePath("requests.jsonl");
    TestServer server({"--cameras", "top,front", "--log", log});
    OpenPiPolicy policy({server.url()}, kSimRig);
    policy.connect();
    QVERIFY2(policy.serverMetadata().find("server=flywheel-test") != std::string::npos,
             policy.serverMetadata().c_str());
    JointVector state{0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7};
    Observation obs = observationWith(
        state, {uniformImage(640, 480, {200, 200, 200}), uniformImage(640, 480, {10, 10, 10})});
    PolicyOutput out = policy.infer(obs, "put the cube in the bin");
    QCOMPARE(out.actions.horizon, 10);
    QCOMPARE(out.actions.joints, 7);
    for (int i = 0; i < 10; ++i)
      for (int j = 0; j < 7; ++j)
        QVERIFY(std::abs(out.actions.values[static_cast<std::size_t>(i * 7 + j)] -
                         (state[j] + 0.01 * (i + 1))) < 1e-6);
    QVERIFY(out.timing.total > 0.0);
    QVERIFY(out.timing.network > 0.0);
    QFile file(log);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject request = QJsonDocument::fromJson(file.readLine()).object();
    QCOMPARE(request["prompt"].toString(), QString("put the cube in the bin"));
    // 640x480 letterboxed into 224x224: 168 rows of picture, 56 of black padding.
    QVERIFY(std::abs(request["images"].toObject()["top"].toDouble() - 200.0 * 168 / 224) < 1.0);
  }

  void openPiApiKey() {
    TestServer server({"--api-key", "secret"});
    OpenPiPolicy withoutKey({server.url()}, kSimRig);
    const std::string refused = inferError(withoutKey, observationWith(JointVector(7, 0.0), {}));
    QVERIFY2(refused.starts_with("cannot connect to " + server.url()), refused.c_str());
    OpenPiOptions options{server.url(), "secret"};
    OpenPiPolicy withKey(options, kSimRig);
    QCOMPARE(withKey.infer(observationWith(JointVector(7, 0.0), {}), "x").actions.horizon, 10);
  }

  // wss:// to a server with a self-signed certificate: refused unless the operator accepts any certificate.
  void openPiOverTls() {
    const QString cert = dir_.filePath("cert.pem"), key = dir_.filePath("key.pem");
    QProcess openssl;
    openssl.start("openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                              "-days", "1", "-keyout", key, "-out", cert});
    QVERIFY(openssl.waitForFinished(60000) && openssl.exitCode() == 0);
    TestServer server({"--tls-cert", cert, "--tls-key", key});
    const std::string url = "wss://127.0.0.1:" + std::to_string(server.port);
    OpenPiPolicy strict({url}, kSimRig);
    const std::string refused = inferError(strict, observationWith(JointVector(7, 0.0), {}));
    QVERIFY2(refused.starts_with("cannot connect to " + url), refused.c_str());
    OpenPiOptions trusting{url};
    trusting.acceptAnyCertificate = true;
    OpenPiPolicy policy(trusting, kSimRig);
    QCOMPARE(policy.infer(observationWith(JointVector(7, 0.0), {}), "x").actions.horizon, 10);
  }

  // Malformed replies: the server's error text, bytes that are not msgpack, the wrong shape, NaN.
  void openPiMalformedRepliesAreRefused() {
    const Observation obs = observationWith(JointVector(7, 0.0), {});
    {
      TestServer server({"--behaviour", "text-error"});
      OpenPiPolicy policy({server.url()}, kSimRig);
      const std::string error = inferError(policy, obs);
      QVERIFY2(error.find("the server reported an error: RuntimeError: the model ran out of memory") !=
                   std::string::npos,
               error.c_str());
    }
    {
      TestServer server({"--behaviour", "garbage"});
      OpenPiPolicy policy({server.url()}, kSimRig);
      QVERIFY(inferError(policy, obs).find("the server's reply is not msgpack") != std::string::npos);
    }
    for (auto [behaviour, problem] : {std::pair{"wrong-shape", "actions of 6 joints for a rig of 7"},
                                      std::pair{"nan", "NaN at step 2, joint 1"}}) {
      TestServer server({"--behaviour", behaviour});
      OpenPiPolicy policy({server.url()}, kSimRig);
      ManualClock clock;
      ExecutorOptions options{{ChunkMode::Synchronous, 5}};
      options.lockstep = true;
      ChunkExecutor executor(policy, {}, 7, options, clock, "");
      QVERIFY(!executor.nextAction(TickInput(0, obs.state.position)));
      QVERIFY2(executor.status().reason.find(problem) != std::string::npos, executor.status().reason.c_str());
      QCOMPARE(executor.status().refused, std::uint64_t(1));
    }
  }

  // A server that fails every request (an error text after the metadata, or a close on connect) is not
  // flooded: the client backs off, 0.2 s doubling to 5 s, and requests meanwhile fail at once. Counted on
  // the server's side over 3 s of a request every 20 ms: at most 5 connections (0, 0.2, 0.6, 1.4, 3.0 s;
  // a slower machine makes fewer). Once the server recovers, the next connection is the good one.
  void aFailingServerIsNotFlooded() {
    for (const QString behaviour : {"text-error", "close"}) {
      const QString failing = dir_.filePath("failing-" + behaviour),
                    log = dir_.filePath("connections-" + behaviour);
      QFile flag(failing);
      QVERIFY(flag.open(QIODevice::WriteOnly));
      flag.close();
      TestServer server({"--behaviour", behaviour, "--fail-while-exists", failing, "--connections-log", log});
      OpenPiPolicy policy({server.url()}, kSimRig);
      const Observation obs = observationWith(JointVector(7, 0.0), {});
      auto connections = [&] {
        QFile file(log);
        return file.open(QIODevice::ReadOnly) ? file.readAll().count('\n') : 0;
      };
      QElapsedTimer failingFor;
      failingFor.start();
      int fastFailures = 0;
      double longestWait = 0.0;
      while (failingFor.elapsed() < 3000) {
        const std::string error = inferError(policy, obs);
        QVERIFY2(error != "(answered)", qPrintable(behaviour));
        if (auto at = error.find("; reconnecting in "); at != std::string::npos) {
          ++fastFailures;
          longestWait = std::max(longestWait, std::stod(error.substr(at + 18)));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      const int failed = connections();
      QVERIFY2(failed >= 2 && failed <= 5,
               qPrintable(behaviour + QString(": %1 connections in 3 s").arg(failed)));
      QCOMPARE(policy.reconnects(), std::uint64_t(failed - 1));
      QVERIFY(fastFailures > 0);
      QVERIFY2(longestWait <= 5.0, qPrintable(QString::number(longestWait)));

      QVERIFY(QFile::remove(failing));  // the server recovers
      std::string error;
      for (int i = 0; i < 2000 && (error = inferError(policy, obs)) != "(answered)"; ++i) {
        QVERIFY2(error.find("reconnecting in") != std::string::npos, error.c_str());  // only the backoff
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      QCOMPARE(error, std::string("(answered)"));
      QCOMPARE(connections(), failed + 1);  // the first connection after the wait is the good one
      QCOMPARE(inferError(policy, obs), std::string("(answered)"));  // and it stays connected
      QCOMPARE(connections(), failed + 1);
    }
  }

  // Stopping a run while the server sits on a request does not wait for the request's timeout.
  void stoppingDoesNotWaitForAHungServer() {
    TestServer server({"--delay-ms", "20000"});
    OpenPiPolicy policy({server.url()}, kSimRig);
    QElapsedTimer stopping;
    {
      SteadyClock clock;
      ChunkExecutor executor(policy, {}, 7, ExecutorOptions{{ChunkMode::Asynchronous}}, clock, "");
      executor.nextAction(TickInput(0, JointVector(7, 0.0)));  // the request goes out
      QTest::qWait(500);
      QCOMPARE(executor.status().health, PolicyHealth::Starting);
      stopping.start();
    }
    QVERIFY2(stopping.elapsed() < 1000, qPrintable(QString("%1 ms to stop").arg(stopping.elapsed())));
  }

  // The simulated rig runs in real time on an asynchronous executor; the server is killed: the robot
  // holds and the reason is shown; the server comes back on the same port: the robot moves again.
  void serverKilledMidRunHoldsThenRecovers() {
    RigConfig config = loadRigConfig("sim");
    SteadyClock clock;
    Rig rig(config, clock);
    rig.connect();
    ControlLoop loop(rig.config(), rig.devices(), clock);
    auto server = std::make_unique<TestServer>(QStringList{"--horizon", "25"});
    const int port = server->port;
    OpenPiOptions remote{server->url()};
    remote.connectTimeout = 0.5;
    OpenPiPolicy policy(remote, PolicyRigSpec::of(config));
    ExecutorOptions options{{ChunkMode::Asynchronous}};
    options.watchdogSeconds = 0.3;
    ChunkExecutor executor(policy, rig.devices().cameras, 7, options, clock, "wave");
    ActionsOnlyController controller(executor);
    loop.setController(&controller);
    loop.start();
    QTRY_VERIFY_WITH_TIMEOUT(executor.status().health == PolicyHealth::Running, 10000);
    const double before = loop.status().goal[0];
    QTRY_VERIFY_WITH_TIMEOUT(std::abs(loop.status().goal[0] - before) > 0.05, 10000);  // the policy moves it

    server->kill();
    QTRY_VERIFY_WITH_TIMEOUT(executor.status().health == PolicyHealth::Holding, 10000);
    const std::string reason = executor.status().reason;
    QVERIFY2(reason.find("cannot connect") != std::string::npos || reason.find("closed") != std::string::npos,
             reason.c_str());
    const JointVector held = loop.status().goal;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    QCOMPARE(loop.status().goal, held);  // holding position while the server is gone
    QVERIFY(loop.running());

    server = std::make_unique<TestServer>(QStringList{"--horizon", "25"}, port);
    QTRY_VERIFY_WITH_TIMEOUT(executor.status().health == PolicyHealth::Running, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(loop.status().goal != held, 10000);
    loop.stop();
    QVERIFY(executor.status().failures >= 1);
  }
};

QTEST_GUILESS_MAIN(PolicyBackendsTest)
#include "test_policy_backends.moc"
