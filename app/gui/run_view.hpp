// Run a policy: choose a model file, a bundled policy or a policy server, the prompt and how chunks are
// executed; start, pause and stop; take over and hand back (T or Space); watch who is in control, the
// watchdog, the latency and the chunk timeline. With "Record the run" each run is saved as an episode.
// A fallback (a model file or bundled policy, beside the policy) drives while the policy does not answer;
// the banner says which of them drives, and the timeline colours each. On a simulated rig the scripted
// operator can supervise the run: it takes over through the leader when the robot goes wrong, the banner
// says why, and each correction is saved as a labelled segment of the recorded run.
#pragma once

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QSpinBox>
#include <QWidget>
#include <memory>

#include "app/policy_session.hpp"
#include "recorder/dataset_folder.hpp"

namespace flywheel::gui {

class CameraTile;
class ChunkTimeline;

class RunView : public QWidget {
  Q_OBJECT
 public:
  RunView(Studio& studio, const DatasetFolder& dataset, QWidget* parent = nullptr);
  ~RunView() override;

  void refresh();  // at screen rate, from the window's timer
  bool running() const { return session_ != nullptr; }
  void stop();
  // A model trained meanwhile (Review & Label's Train…): put in the policy field, unless a run is on.
  void offerPolicy(const QString& path);

  QLineEdit* policyEdit() const { return policyEdit_; }
  QPushButton* bundledButton() const { return bundledButton_; }  // its menu: the bundled policies
  QComboBox* fallbackBox() const { return fallbackBox_; }  // editable: empty, a bundled name or a .pt file
  ChunkTimeline* timeline() const { return timeline_; }
  QLineEdit* promptEdit() const { return promptEdit_; }
  QComboBox* modeBox() const { return modeBox_; }
  QCheckBox* recordBox() const { return recordBox_; }
  QCheckBox* supervisorBox() const { return supervisorBox_; }  // enabled on simulated rigs only
  QSpinBox* secondsBox() const { return secondsBox_; }
  QPushButton* startButton() const { return startButton_; }
  QPushButton* pauseButton() const { return pauseButton_; }
  QPushButton* stopButton() const { return stopButton_; }
  QPushButton* takeoverButton() const { return takeoverButton_; }
  QLabel* indicator() const { return indicator_; }
  QLabel* figures() const { return figures_; }
  PolicySession* session() const { return session_.get(); }
  QString lastSavedEpisode() const { return lastSaved_; }

 Q_SIGNALS:
  void message(const QString& text);
  void failed(const QString& text);

 private:
  void buildUi();
  void start();
  void togglePause();
  void toggleTakeover();
  void sendPrompt();
  void browse();
  void fillBundledMenu(QMenu* menu);
  void updateControls();
  void updateIndicator(const ExecutorStatus& e, const TakeoverStatus& t);
  QString switchesText() const;
  QString correctionsText() const;

  Studio& studio_;
  const DatasetFolder& dataset_;
  std::unique_ptr<PolicySession> session_;
  bool paused_ = false;
  QString lastSaved_;

  std::vector<CameraTile*> tiles_;
  QLabel* indicator_ = nullptr;
  QLineEdit* policyEdit_ = nullptr;
  QPushButton* bundledButton_ = nullptr;
  QLineEdit* apiKeyEdit_ = nullptr;
  QComboBox* fallbackBox_ = nullptr;
  QComboBox* modeBox_ = nullptr;
  QLineEdit* promptEdit_ = nullptr;
  QCheckBox* recordBox_ = nullptr;
  QCheckBox* supervisorBox_ = nullptr;
  QSpinBox* secondsBox_ = nullptr;
  QPushButton* startButton_ = nullptr;
  QPushButton* pauseButton_ = nullptr;
  QPushButton* stopButton_ = nullptr;
  QPushButton* takeoverButton_ = nullptr;
  QLabel* figures_ = nullptr;
  ChunkTimeline* timeline_ = nullptr;
};

}  // namespace flywheel::gui
