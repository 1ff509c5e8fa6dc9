// Rig configuration: the bundled rigs load, and every kind of mistake names the file, line and field.
#include <QtTest>

#include <cmath>
#include <random>
#include <tuple>

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

// Every section and every key a rig file knows, one key per mutation in strictKeysAtEveryLevel.
const char* kEveryKeyRig = R"(name: every
description: all sections
control_rate_hz: 100
record_rate_hz: 50
arms:
  - name: lead
    role: leader
    bus: sim
    mount: {x: 0.1, y: 0.2, yaw_deg: 10}
    joints:
      - {name: a, id: 1, min: -1, max: 1, offset: 0, direction: -1}
  - name: follow
    role: follower
    bus: sim
    port: ""
    baud: 57600
    model: ""
    joints:
      - {name: a, id: 1, min: -1, max: 1}
pairs:
  - {leader: lead, follower: follow}
cameras:
  - {name: c, source: sim, fourcc: MJPG, width: 320, height: 240, fps: 30, view: {attach: follow, fov_deg: 70}}
  - name: d
    source: sim
    width: 320
    height: 240
    fps: 30
    view: {position: [1, 0, 1], look_at: [0, 0, 0], fov_deg: 60}
safety:
  max_joint_speed: 2.0
  on_stop: limp
  max_failed_ticks: 3
takeover:
  mirror_leaders: false
  threshold: 0.2
  confirm_ticks: 2
  hand_back_seconds: 0.5
  leader_lag_seconds: 0.1
sim:
  seed: 7
  bin_center: [0.2, 0.3]
  cube_region: [0.26, 0.40, -0.14, 0.08]
)";

QString errorOf(const std::string& yaml) {
  try {
    parseRigConfig(yaml, "rig.yaml");
  } catch (const ConfigError& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

QString errorOfLoading(const std::string& path) {
  try {
    loadRigConfig(path);
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
    QVERIFY2(
        error.contains("rig.yaml:20: takeover.leader_lag_seconds: -1 is out of range (0 <= value <= 5 s)"),
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

  // The words of the rig file are read into kinds once; nameOf gives each word back.
  void wordsAreReadIntoKinds() {
    const RigConfig koch = loadRigConfig("koch-emulated");
    QCOMPARE(koch.arms.at(0).role, ArmRole::Leader);
    QCOMPARE(koch.arms.at(0).bus, BusKind::Dynamixel);
    QCOMPARE(koch.arms.at(0).portKind(), PortKind::Emulator);
    QCOMPARE(loadRigConfig("so100-emulated").arms.at(1).bus, BusKind::Feetech);
    ArmConfig arm = koch.arms.at(1);
    arm.port = "/dev/ttyUSB0";  // a port set after loading is judged by its new text
    QCOMPARE(arm.portKind(), PortKind::DevicePath);
    arm.port = "FT8J0QI3";
    QCOMPARE(arm.portKind(), PortKind::UsbSerial);

    const RigConfig sim = parseRigConfig(kValidRig, "rig.yaml");
    QCOMPARE(sim.arms.at(1).role, ArmRole::Follower);
    QCOMPARE(sim.arms.at(1).bus, BusKind::Sim);
    QCOMPARE(sim.arms.at(1).portKind(), PortKind::Simulated);
    QCOMPARE(sim.cameras.at(0).sourceKind(), CameraSourceKind::Simulated);
    for (BusKind bus : {BusKind::Sim, BusKind::Dynamixel, BusKind::Feetech})
      for (ArmRole role : {ArmRole::Leader, ArmRole::Follower}) {
        const std::string yaml = "name: t\narms:\n  - {name: a, role: " + std::string(nameOf(role)) +
                                 ", bus: " + nameOf(bus) +
                                 ", port: p, model: m, joints: [{name: j, min: 0, max: 1}]}\n"
                                 "  - {name: f, role: follower, bus: " +
                                 nameOf(bus) + ", port: p, model: m, joints: [{name: j, min: 0, max: 1}]}\n";
        const ArmConfig parsed = parseRigConfig(yaml, "rig.yaml").arms.at(0);
        QCOMPARE(parsed.bus, bus);
        QCOMPARE(parsed.role, role);
      }

    CameraConfig camera;
    const std::vector<std::tuple<std::string, CameraSourceKind, std::string>> sources = {
        {"sim", CameraSourceKind::Simulated, "sim"},
        {"/dev/video2", CameraSourceKind::VideoDevice, "/dev/video2"},
        {"2", CameraSourceKind::VideoIndex, "2"},
        {"file:clip.mp4", CameraSourceKind::File, "clip.mp4"},
        {"gst:videotestsrc ! appsink", CameraSourceKind::GStreamer, "videotestsrc ! appsink"},
        {"/dev/ttyUSB0", CameraSourceKind::Unknown, "/dev/ttyUSB0"},
        {"", CameraSourceKind::Unknown, ""}};
    for (const auto& [source, kind, target] : sources) {
      camera.source = source;
      QCOMPARE(camera.sourceKind(), kind);
      QCOMPARE(camera.sourceTarget(), target);
    }
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

  void everyKeyRigParses() {
    const RigConfig rig = parseRigConfig(kEveryKeyRig, "rig.yaml");
    QCOMPARE(rig.safety.maxJointSpeed, 2.0);
    QCOMPARE(rig.takeover.confirmTicks, 2);
    QCOMPARE(rig.sim.seed, 7u);
    QCOMPARE(rig.arms.at(1).baud, 57600);
    QCOMPARE(rig.cameras.at(0).view.attachToArm, std::string("follow"));
  }

  // The issue's three typos, each silently accepted before: a speed limit left at its default, a rig
  // recording no cameras, a loop falling back to 50 Hz.
  void typoedKeysAreErrors() {
    const std::string pairs = "  - {leader: lead, follower: follow}\n";
    QCOMPARE(errorOf(replaced(kValidRig, pairs, pairs + "safety:\n  on_stop: hold\n  max_joint_sped: 0.5\n")),
             QString("rig.yaml:21: safety.max_joint_sped: unknown key (did you mean max_joint_speed?)"));
    QCOMPARE(errorOf(replaced(kValidRig, "cameras:", "camras:")),
             QString("rig.yaml:19: camras: unknown key (did you mean cameras?)"));
    QCOMPARE(errorOf(replaced(kValidRig, "control_rate_hz: 100", "contol_rate_hz: 100")),
             QString("rig.yaml:2: contol_rate_hz: unknown key (did you mean control_rate_hz?)"));
    const QString far =
        errorOf(replaced(kValidRig, "    role: leader\n", "    role: leader\n    colour: red\n"));
    QVERIFY2(far.startsWith("rig.yaml:7: arms[0].colour: unknown key (known here: name, role, bus,"),
             qPrintable(far));
  }

  // The class, not one example: every key of every section, misspelt, is an error at its own line
  // naming the key it was meant to be.
  void strictKeysAtEveryLevel() {
    const QStringList lines = QString(kEveryKeyRig).split('\n');
    const QRegularExpression keyPattern("([a-z_]+):");
    int mutations = 0;
    for (int line = 0; line < lines.size(); ++line) {
      for (auto match = keyPattern.globalMatch(lines[line]); match.hasNext();) {
        const auto found = match.next();
        const QString key = found.captured(1);
        QStringList copy = lines;
        const QString typo = key.size() > 1 ? key.left(2) + key.mid(1) : key + key;  // a letter doubled
        copy[line].replace(found.capturedStart(1), key.size(), typo);
        const QString error = errorOf(copy.join('\n').toStdString());
        const QString expected = QString("rig.yaml:%1: ").arg(line + 1);
        QVERIFY2(error.startsWith(expected), qPrintable(key + " -> " + error));
        QVERIFY2(error.endsWith(typo + ": unknown key (did you mean " + key + "?)"),
                 qPrintable(key + " -> " + error));
        ++mutations;
      }
    }
    QVERIFY2(mutations >= 50, qPrintable(QString::number(mutations)));
  }

  void duplicateKeysNameBothLines() {
    QCOMPARE(
        errorOf(replaced(kValidRig, "record_rate_hz: 50\n", "record_rate_hz: 50\ncontrol_rate_hz: 25\n")),
        QString("rig.yaml:4: control_rate_hz: duplicate key (first on line 2, again on line 4)"));
    QCOMPARE(errorOf(replaced(kValidRig, "{name: a, min: -1, max: 1}", "{name: a, min: -1, max: 1, max: 2}")),
             QString("rig.yaml:9: arms[0].joints[0].max: duplicate key (first on line 9, again on line 9)"));
    const std::string pairs = "  - {leader: lead, follower: follow}\n";
    QCOMPARE(
        errorOf(replaced(kValidRig, pairs,
                         pairs + "safety:\n  max_joint_speed: 0.5\n  on_stop: hold\n  max_joint_speed: 4\n")),
        QString("rig.yaml:22: safety.max_joint_speed: duplicate key (first on line 20, again on line 22)"));
  }

  // Values outside physical sense: each error states the allowed range.
  void valuesOutOfRange() {
    const std::vector<std::tuple<std::string, std::string, QString>> cases = {
        {"max_joint_speed: 2.0", "max_joint_speed: 1e300",
         "rig.yaml:31: safety.max_joint_speed: 1e300 is out of range (0 < value <= 50 rad/s)"},
        {"max_joint_speed: 2.0", "max_joint_speed: .nan",
         "safety.max_joint_speed: .nan is out of range (0 < value <= 50 rad/s)"},
        {"max_joint_speed: 2.0", "max_joint_speed: 0", "(0 < value <= 50 rad/s)"},
        {"seed: 7", "seed: -1", "rig.yaml:41: sim.seed: -1 is out of range (0 <= value <= 4294967295)"},
        {"seed: 7", "seed: 1.5", "sim.seed: must be an integer, got '1.5'"},
        {"control_rate_hz: 100", "control_rate_hz: -100",
         "control_rate_hz: -100 is out of range (1 <= value"},
        {"control_rate_hz: 100", "control_rate_hz: .inf", "control_rate_hz: .inf is out of range"},
        {"record_rate_hz: 50", "record_rate_hz: 0",
         "record_rate_hz: 0 is out of range (0 < value <= 2000 Hz)"},
        {"fps: 30,", "fps: 1e9,", "cameras[0].fps: 1e9 is out of range (0 < value <= 240 frames/s)"},
        {"width: 320, height: 240, fps: 30, view: {attach",
         "width: 99999, height: 240, fps: 30, view: {attach",
         "cameras[0].width: 99999 is out of range (16 <= value <= 4096 pixels)"},
        {"baud: 57600", "baud: -9600", "arms[1].baud: -9600 is out of range (9600 <= value <= 4500000 baud)"},
        {"threshold: 0.2", "threshold: -0.2",
         "takeover.threshold: -0.2 is out of range (0 < value <= 3.2 rad)"},
        {"confirm_ticks: 2", "confirm_ticks: 0", "takeover.confirm_ticks: 0 is out of range (1 <= value"},
        {"hand_back_seconds: 0.5", "hand_back_seconds: 1e6", "(0 <= value <= 10 s)"},
        {"max_failed_ticks: 3", "max_failed_ticks: -3", "safety.max_failed_ticks: -3 is out of range"},
        {"min: -1, max: 1, offset", "min: -1, max: 1e300, offset",
         "arms[0].joints[0].max: 1e300 is out of range (-6.283 <= value <= 6.283 rad)"},
        {"min: -1, max: 1, offset", "min: .nan, max: 1, offset",
         "arms[0].joints[0].min: .nan is out of range"},
        {"min: -1, max: 1, offset", "min: 1, max: 1, offset",
         "arms[0].joints[0].max: must be greater than min"},
        {"id: 1, min: -1, max: 1, offset", "id: 300, min: -1, max: 1, offset",
         "id: 300 is out of range (0 <= value"},
        {"offset: 0", "offset: -5", "arms[0].joints[0].offset: -5 is out of range"},
        {"yaw_deg: 10", "yaw_deg: 1e4",
         "arms[0].mount.yaw_deg: 1e4 is out of range (-360 <= value <= 360 degrees)"},
        {"bin_center: [0.2, 0.3]", "bin_center: [0.2, .inf]",
         "sim.bin_center[1]: .inf is out of range (-5 <= value <= 5 m)"},
        {"look_at: [0, 0, 0]", "look_at: [0, 1e300, 0]",
         "cameras[1].view.look_at[1]: 1e300 is out of range (-10 <= value <= 10 m)"},
    };
    for (const auto& [from, to, expected] : cases) {
      const QString error = errorOf(replaced(kEveryKeyRig, from, to));
      QVERIFY2(error.contains(expected), qPrintable(QString::fromStdString(to) + " -> " + error));
    }
  }

  void namesMustBeUtf8() {
    QCOMPARE(
        errorOf(replaced(kValidRig, "  - name: follow\n", "  - name: f\xff\xfe\n")),
        QString(
            "rig.yaml:11: in this line, byte 12 (0xff) is not valid UTF-8; a rig file must be UTF-8 text"));
    QCOMPARE(
        errorOf(replaced(kValidRig, "{name: c,", "{name: \"c/../x\",")),
        QString("rig.yaml:20: cameras[0].name: 'c/../x': a name may not hold '/' or control characters"));
    QVERIFY(
        errorOf(replaced(kValidRig, "name: t\n", "name: \"\"\n")).contains("name: a name must be 1 to 64"));
    // Valid UTF-8 names are welcome.
    QCOMPARE(parseRigConfig(replaced(kValidRig, "name: t\n", "name: bras-gauche-élan\n"), "rig.yaml").name,
             std::string("bras-gauche-élan"));
  }

  void directoryOrDeviceIsNotARigFile() {
    QTemporaryDir dir;
    QCOMPARE(errorOfLoading(dir.path().toStdString()),
             dir.path() + ": is a directory, not a rig file (give the path of a .yaml file)");
    QCOMPARE(errorOfLoading("/dev/zero"), QString("/dev/zero: is not a regular file"));
  }

  void bundledRigsAreStrictClean() {
    for (const char* name : {"sim", "sim-aloha", "koch-emulated", "so100-emulated", "sim-two-bins"})
      QVERIFY2(!loadRigConfig(name).arms.empty(), name);
  }

  // Hostile bytes: random edits of every bundled rig either parse into values within their ranges or
  // fail with a ConfigError; nothing else escapes (no crash, no other exception, no NaN let through).
  void mutatedRigsFailCleanly() {
    std::mt19937 random(11);
    int parsed = 0, refused = 0;
    for (const char* name : {"sim", "sim-aloha", "koch-emulated", "so100-emulated", "sim-two-bins"}) {
      const std::string original = loadRigConfig(name).sourceText;
      for (int i = 0; i < 400; ++i) {
        std::string text = original;
        for (int edits = 1 + static_cast<int>(random() % 3); edits > 0; --edits) {
          const std::size_t at = random() % text.size();
          switch (random() % 4) {
            case 0:
              text[at] = static_cast<char>(random() % 256);
              break;
            case 1:
              text.erase(at, random() % 40);
              break;
            case 2:
              text.insert(at, text.substr(random() % text.size(), random() % 60));
              break;
            default:
              text.insert(text.begin() + static_cast<long>(at), "{}[]:,-#'\"\n 0e9"[random() % 16]);
              break;
          }
          if (text.empty()) text.push_back('x');
        }
        try {
          const RigConfig rig = parseRigConfig(text, "rig.yaml");
          ++parsed;
          QVERIFY(rig.safety.maxJointSpeed > 0.0 && rig.safety.maxJointSpeed <= 50.0);
          QVERIFY(rig.controlRateHz >= 1.0 && rig.controlRateHz <= 2000.0);
          for (const ArmConfig& arm : rig.arms)
            for (const JointConfig& joint : arm.joints)
              QVERIFY(std::isfinite(joint.min) && std::isfinite(joint.max) && joint.min < joint.max);
        } catch (const ConfigError&) {
          ++refused;
        }
      }
    }
    qInfo("%d mutated rigs parsed, %d refused with a ConfigError", parsed, refused);
    QVERIFY(refused > 0);
  }

  void missingFileListsBundledRigs() {
    try {
      loadRigConfig("/nonexistent/rig.yaml");
      QFAIL("a missing file must throw");
    } catch (const ConfigError& e) {
      QString error = e.what();
      QVERIFY2(error.contains("/nonexistent/rig.yaml: no such rig file (bundled rigs: koch-emulated, sim, "
                              "sim-aloha, sim-two-bins, so100-emulated)"),
               qPrintable(error));
    }
  }
};

QTEST_GUILESS_MAIN(ConfigTest)
#include "test_config.moc"
