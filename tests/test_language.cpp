// A task where the words matter: the two-bin simulated rig (the instruction names the bin that counts, the
// scripted operator follows it), the words of a prompt and their vocabulary, and the TorchScript runtime
// passing a prompt to a model as word ids.
#include <QtTest>

#include <QProcess>
#include <QTemporaryDir>
#include <set>

#include "core/bundled_rigs.hpp"
#include "core/config.hpp"
#include "core/prompt_words.hpp"
#include "policy/torchscript_policy.hpp"
#include "sim_harness.hpp"

using namespace flywheel;
using namespace flywheel::testing;

namespace {

const std::string kLeft = "put the cube in the left bin";
const std::string kRight = "put the cube in the right bin";
constexpr int kLeftBin = 0, kRightBin = 1;    // sim-two-bins lists left, then right
constexpr std::uint64_t kEpisodeTicks = 600;  // 12 s at 50 Hz: longer than the slowest plan

// The bundled two-bin rig with its sim: section replaced by `sim`.
std::string twoBinYaml(const std::string& sim) {
  const std::string text = *findBundledRig("sim-two-bins");
  const auto begin = text.find("sim:\n"), end = text.find("arms:\n");
  return text.substr(0, begin) + sim + text.substr(end);
}

std::string configError(const std::string& yaml) {
  try {
    parseRigConfig(yaml, "two.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

class TestLanguage : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void promptWordsAreLowercaseLetterRuns() {
    QCOMPARE(promptWords("Put the cube in the LEFT bin, please!"),
             (std::vector<std::string>{"put", "the", "cube", "in", "the", "left", "bin", "please"}));
    QCOMPARE(promptWords("  2nd:left-bin\t"), (std::vector<std::string>{"nd", "left", "bin"}));
    QVERIFY(promptWords("").empty());
    QVERIFY(promptWords("123 !? \xc3\xa9").empty());  // no ASCII letter: no word (é is not one)
  }

  void vocabularyMapsUnknownWordsToUnk() {
    const PromptVocabulary v = PromptVocabulary::fromPrompts({kRight, kLeft, kLeft});
    QCOMPARE(v.list(), (std::vector<std::string>{"<pad>", "<unk>", "bin", "cube", "in", "left", "put",
                                                 "right", "the"}));
    QCOMPARE(v.ids("Put the cube in the LEFT bin"), (std::vector<std::int64_t>{6, 8, 3, 4, 8, 5, 2}));
    QCOMPARE(
        v.ids("put the sphere in the blue bin"),
        (std::vector<std::int64_t>{6, 8, PromptVocabulary::kUnknown, 4, 8, PromptVocabulary::kUnknown, 2}));
    QVERIFY(v.ids("").empty());
    QCOMPARE(PromptVocabulary::fromList(v.list()).ids(kRight), v.ids(kRight));
  }

  void badVocabulariesAreRefused() {
    for (const std::vector<std::string>& bad : {std::vector<std::string>{"left", "right"},
                                                {"<unk>", "<pad>", "left"},
                                                {"<pad>", "<unk>", "left", "left"},
                                                {"<pad>", "<unk>", "Left"},
                                                {"<pad>", "<unk>", "two words"},
                                                {"<pad>", "<unk>", ""}}) {
      bool refused = false;
      try {
        PromptVocabulary::fromList(bad);
      } catch (const std::invalid_argument&) {
        refused = true;
      }
      QVERIFY2(refused, bad.back().c_str());
    }
  }

  void binsAreParsedStrictly() {
    const RigConfig rig = loadRigConfig("sim-two-bins");
    QCOMPARE(rig.sim.bins.size(), std::size_t(2));
    QCOMPARE(rig.sim.bins[kLeftBin].name, std::string("left"));
    QCOMPARE(rig.sim.bins[kRightBin].center[1], -0.28);
    QVERIFY(loadRigConfig("sim").sim.bins.empty());  // the one-bin task is unchanged
    const std::string bins = "  bins:\n    - {name: left, center: [0.22, 0.28]}\n";
    const std::vector<std::pair<std::string, std::string>> cases{
        {"sim:\n" + bins + "    - {name: right, center: [0.22, -0.28], colour: red}\n", "colour"},
        {"sim:\n" + bins + "    - {name: Right, center: [0.22, -0.28]}\n", "lowercase word"},
        {"sim:\n" + bins + "    - {name: left, center: [0.22, -0.28]}\n", "duplicate bin name 'left'"},
        {"sim:\n" + bins, "2 to 8 bins"},
        {"sim:\n  bin_center: [0.2, 0.3]\n" + bins + "    - {name: right, center: [0.22, -0.28]}\n",
         "not both"},
        {"sim:\n" + bins + "    - {name: right, center: [0.22]}\n", "2 numbers"},
    };
    for (const auto& [sim, expected] : cases) {
      const std::string error = configError(twoBinYaml(sim));
      QVERIFY2(error.find(expected) != std::string::npos && error.find("two.yaml") != std::string::npos,
               error.c_str());
    }
  }

  void theInstructionNamesTheBin() {
    const SimConfig sim = loadRigConfig("sim-two-bins").sim;
    QCOMPARE(sim::instructedBin(sim, kLeft), kLeftBin);
    QCOMPARE(sim::instructedBin(sim, "RIGHT bin, quickly"), kRightBin);
    QCOMPARE(sim::instructedBin(sim, "pick up the cube and place it in the bin"), -1);
    QCOMPARE(sim::instructedBin(sim, "not the left, the right bin"), -1);  // both named: neither
    QCOMPARE(sim::instructedBin(sim, "the leftmost bin"), -1);             // whole words only
    // Without a task, each seed draws its instruction: reproducibly, and both bins come up.
    std::set<int> drawn;
    for (unsigned seed = 1; seed <= 20; ++seed) {
      const std::string instruction = sim::defaultInstruction(sim, seed);
      QCOMPARE(sim::defaultInstruction(sim, seed), instruction);
      drawn.insert(sim::instructedBin(sim, instruction));
    }
    QCOMPARE(drawn, (std::set<int>{kLeftBin, kRightBin}));
    const SimConfig oneBin = loadRigConfig("sim").sim;
    QCOMPARE(sim::instructedBin(oneBin, kRight), 0);
    QCOMPARE(sim::defaultInstruction(oneBin, 3), std::string());
  }

  // The scripted operator takes the cube where it is told; the outcome counts only the instructed bin.
  void theOperatorFollowsTheInstruction() {
    const RigConfig rig = loadRigConfig("sim-two-bins");
    SimHarness harness(rig);
    for (unsigned seed : {3u, 4u}) {
      harness.world().setInstruction(kLeft);
      harness.runEpisode(seed, kEpisodeTicks);
      sim::EpisodeOutcome left = harness.world().outcome();
      QVERIFY(left.success);
      QCOMPARE(left.restingBin, kLeftBin);
      // The same cube, now in what the instruction calls the wrong bin: a failure.
      harness.world().setInstruction(kRight);
      QVERIFY(!harness.world().outcome().success);
      QCOMPARE(harness.world().outcome().restingBin, kLeftBin);

      harness.runEpisode(seed, kEpisodeTicks);  // same scene, told the right bin
      sim::EpisodeOutcome right = harness.world().outcome();
      QVERIFY(right.success);
      QCOMPARE(right.restingBin, kRightBin);
      // An instruction that names no bin is satisfied by either.
      harness.world().setInstruction("put the cube in a bin");
      QVERIFY(harness.world().outcome().success);
    }
  }

  // The camera shows both bins alike, whichever is instructed: only the words tell them apart.
  void bothBinsAreInTheSnapshot() {
    const RigConfig rig = loadRigConfig("sim-two-bins");
    SimHarness harness(rig);
    harness.world().setInstruction(kRight);
    sim::SceneSnapshot scene = harness.world().snapshot();
    QCOMPARE(scene.binCenter.y(), -0.28);
    QCOMPARE(scene.otherBins.size(), std::size_t(1));
    QCOMPARE(scene.otherBins[0].y(), 0.28);
    QVERIFY(loadRigConfig("sim").sim.bins.empty());
  }

  // A model with a prompt_vocabulary gets the prompt's word ids [1, L]; its actions echo their sum (joint
  // 0) and count (joint 1), so every id is checked: unknown words are <unk>, an empty prompt one <pad>.
  void theRuntimePassesWordIds() {
    QTemporaryDir dir;
    const QString path = dir.filePath("ids.pt");
    QProcess python;
    python.start("/usr/bin/python3", {QStringLiteral(FLYWHEEL_SOURCE_DIR "/tests/policy/make_test_model.py"),
                                      path, "--variant", "prompt-ids"});
    QVERIFY(python.waitForFinished(120000) && python.exitCode() == 0);
    const PolicyRigSpec spec = PolicyRigSpec::of(loadRigConfig("sim-two-bins"));
    TorchScriptPolicy policy(path.toStdString(), spec);
    const PromptVocabulary vocabulary = PromptVocabulary::fromList(policy.contract().promptVocabulary);
    Observation observation;
    observation.state = JointState::zeros(spec.joints);
    observation.frames.resize(spec.cameras.size());
    for (const std::string prompt :
         {kLeft, kRight, std::string("Put the SPHERE in the left bin!"), std::string("zzz"), std::string()}) {
      const ActionChunk chunk = policy.infer(observation, prompt).actions;
      std::int64_t sum = 0, words = 0;
      for (std::int64_t id : vocabulary.ids(prompt)) {
        sum += id;
        ++words;
      }
      QCOMPARE(chunk.values[0], double(sum));
      QCOMPARE(chunk.values[1], double(words));
    }
    QCOMPARE(policy.infer(observation, "zzz").actions.values[0], double(PromptVocabulary::kUnknown));
  }

  void aVocabularyWithoutTakesPromptIsRefused() {
    bool refused = false;
    try {
      ModelContract::fromJson(R"({"state_dim": 7, "action_dim": 7, "horizon": 2,
                                  "prompt_vocabulary": ["<pad>", "<unk>", "left"]})",
                              "m.pt");
    } catch (const PolicyError& e) {
      refused = std::string(e.what()).find("takes_prompt") != std::string::npos;
    }
    QVERIFY(refused);
    refused = false;
    try {
      ModelContract::fromJson(R"({"state_dim": 7, "action_dim": 7, "horizon": 2, "takes_prompt": true,
                                  "prompt_vocabulary": ["left", "right"]})",
                              "m.pt");
    } catch (const PolicyError& e) {
      refused = std::string(e.what()).find("<pad>") != std::string::npos;
    }
    QVERIFY(refused);
  }
};

QTEST_GUILESS_MAIN(TestLanguage)
#include "test_language.moc"
