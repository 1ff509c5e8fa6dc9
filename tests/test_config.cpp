// Rig configuration: the bundled rigs load, and every kind of mistake names the file, line and field.
#include <QtTest>

#include "core/config.hpp"

using namespace flywheel;

namespace {

const char* kValidRig = R"(name: t
control_rate_hz: 100
record_rate_hz: 50
arms:
  - name: lead
    role: leader
    bus: sim
    joints:
      - {name: a, min: -1, max: 1}
      - {name: gripper, min: 0, max: 1}
  - name: follow
    role: follower
    bus: sim
    joints:
      - {name: a, min: -1, max: 1}
      - {name: gripper, min: 0, max: 1}
pairs:
  - {leader: lead, follower: follow}
cameras:
  - {name: c, source: sim, width: 320, height: 240, fps: 30, view: {position: [1, 0, 1], look_at: [0, 0, 0]}}
)";

QString errorOf(const std::string& yaml) {
  try {
    parseRigConfig(yaml, "rig.yaml");
  } catch (const ConfigError& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  if (at == std::string::npos) throw std::logic_error("test fixture lacks: " + from);
  return text.replace(at, from.size(), to);
}

}  // namespace

class ConfigTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void bundledSimRig() {
    RigConfig rig = loadRigConfig("sim");
    QCOMPARE(rig.name, std::string("sim"));
    QCOMPARE(rig.followerJointCount(), std::size_t(7));
    QCOMPARE(rig.cameras.size(), std::size_t(2));
    QVERIFY(rig.isSimulated());
    QCOMPARE(rig.controlRateHz, 50.0);
    QVERIFY(!rig.sourceText.empty());
  }

  void bundledAlohaRig() {
    RigConfig rig = loadRigConfig("sim-aloha");
    QCOMPARE(rig.followerJointCount(), std::size_t(14));
    QCOMPARE(rig.pairs.size(), std::size_t(2));
    std::vector<std::string> names;
    for (const auto& cam : rig.cameras) {
      names.push_back(cam.name);
      QCOMPARE(cam.height, 480);
      QCOMPARE(cam.width, 640);
    }
    QCOMPARE(names, (std::vector<std::string>{"cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist"}));
  }

  void validRigParses() {
    RigConfig rig = parseRigConfig(kValidRig, "rig.yaml");
    QCOMPARE(rig.recordDecimation(), 2);
    QCOMPARE(rig.arms.at(1).joints.at(1).isGripper(), true);
  }

  void malformedYamlNamesLine() {
    QString error = errorOf("name: t\narms: [\n  {name: x\n");
    QVERIFY2(error.startsWith("rig.yaml:"), qPrintable(error));
    QVERIFY2(error.contains("not valid YAML"), qPrintable(error));
  }

  void missingFieldNamed() {
    QString error = errorOf(replaced(kValidRig, "    role: leader\n", ""));
    QVERIFY2(error.contains("arms[0].role: is required but missing"), qPrintable(error));
    QVERIFY2(error.startsWith("rig.yaml:5:"), qPrintable(error));  // the arm's line
  }

  void limitsOutOfOrder() {
    QString error = errorOf(replaced(kValidRig, "{name: a, min: -1, max: 1}", "{name: a, min: 2, max: 1}"));
    QVERIFY2(error.contains("rig.yaml:9: arms[0].joints[0].max: must be greater than min"),
             qPrintable(error));
  }

  void wrongTypeNamed() {
    QString error = errorOf(replaced(kValidRig, "control_rate_hz: 100", "control_rate_hz: fast"));
    QVERIFY2(error.contains("rig.yaml:2: control_rate_hz: must be a number, got 'fast'"), qPrintable(error));
  }

  void recordRateMustDivide() {
    QString error = errorOf(replaced(kValidRig, "record_rate_hz: 50", "record_rate_hz: 30"));
    QVERIFY2(error.contains("record_rate_hz: must divide control_rate_hz evenly"), qPrintable(error));
  }

  void takeoverSection() {
    const std::string pairs = "  - {leader: lead, follower: follow}\n";
    const RigConfig rig = parseRigConfig(
        replaced(kValidRig, pairs, pairs + "takeover: {threshold: 0.2, leader_lag_seconds: 0.3}\n"),
        "rig.yaml");
    QCOMPARE(rig.takeover.threshold, 0.2);
    QCOMPARE(rig.takeover.leaderLagSeconds, 0.3);
    QCOMPARE(rig.takeover.handBackSeconds, TakeoverConfig{}.handBackSeconds);
    const QString error =
        errorOf(replaced(kValidRig, pairs, pairs + "takeover:\n  leader_lag_seconds: -1\n"));
    QVERIFY2(error.contains("rig.yaml:20: takeover.leader_lag_seconds: must not be negative"),
             qPrintable(error));
  }

  void pairingUnknownArm() {
    QString error = errorOf(replaced(kValidRig, "{leader: lead,", "{leader: ghost,"));
    QVERIFY2(error.contains("pairs[0].leader: no arm named 'ghost'"), qPrintable(error));
  }

  void pairingWrongRole() {
    QString error = errorOf(
        replaced(kValidRig, "{leader: lead, follower: follow}", "{leader: follow, follower: follow}"));
    QVERIFY2(error.contains("arm 'follow' has role follower"), qPrintable(error));
  }

  void unknownBus() {
    QString error = errorOf(replaced(kValidRig, "bus: sim", "bus: can"));
    QVERIFY2(error.contains("arms[0].bus: must be 'sim', 'dynamixel' or 'feetech', got 'can'"),
             qPrintable(error));
  }

  void servoBusNeedsPort() {
    QString error = errorOf(
        replaced(kValidRig, "    role: leader\n    bus: sim", "    role: leader\n    bus: dynamixel"));
    QVERIFY2(error.contains("arms[0].port: is required for a servo bus"), qPrintable(error));
  }

  void grippersAreNormalised() {
    QString error =
        errorOf(replaced(kValidRig, "{name: gripper, min: 0, max: 1}", "{name: gripper, min: 0, max: 2}"));
    QVERIFY2(error.contains("arms[0].joints[1].min: a gripper is normalised"), qPrintable(error));
  }

  void duplicateCameraNames() {
    std::string yaml =
        std::string(kValidRig) +
        "  - {name: c, source: sim, width: 320, height: 240, fps: 30, view: {attach: follow}}\n";
    QString error = errorOf(yaml);
    QVERIFY2(error.contains("cameras[1].name: duplicate camera name 'c'"), qPrintable(error));
  }

  void noFollower() {
    QString error = errorOf(
        "name: t\narms:\n  - {name: a, role: leader, bus: sim, joints: [{name: j, min: 0, max: 1}]}\n");
    QVERIFY2(error.contains("arms: needs at least one arm with role follower"), qPrintable(error));
  }

  void missingFileListsBundledRigs() {
    try {
      loadRigConfig("/nonexistent/rig.yaml");
      QFAIL("a missing file must throw");
    } catch (const ConfigError& e) {
      QString error = e.what();
      QVERIFY2(error.contains("/nonexistent/rig.yaml: no such rig file (bundled rigs: koch-emulated, sim, "
                              "sim-aloha, so100-emulated)"),
               qPrintable(error));
    }
  }
};

QTEST_GUILESS_MAIN(ConfigTest)
#include "test_config.moc"
