// Review and Label: browse a dataset's episodes (sortable, damaged files marked), play one back at real
// speed with every camera, the joints and the playhead, and label it: task, success, notes, tags and
// language segments on the timeline. Unsaved edits can be undone; a save is crash-safe. Several episodes
// can be selected: Train… trains a policy on them (TrainDialog) and policyTrained offers the result.
// Trim marks are set on the timeline or by Trim idle for the selected episodes (review_trims.cpp).
#pragma once

#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QSlider>
#include <QTableWidget>
#include <QTimer>
#include <QWidget>
#include <memory>

#include "recorder/dataset_folder.hpp"
#include "recorder/episode_reader.hpp"
#include "recorder/labels.hpp"

namespace flywheel {
struct EpisodeEntry;
}

namespace flywheel::gui {

class SegmentTimeline;
class JointPlot;
class FrameView;
class TrainDialog;

class ReviewView : public QWidget {
  Q_OBJECT
 public:
  ReviewView(const DatasetFolder& dataset, QWidget* parent = nullptr);
  ~ReviewView() override;

  void reloadEpisodes();
  bool openEpisode(const QString& path);  // false (with a message) when it cannot be read
  bool save();
  void undo();
  bool dirty() const { return labels() != saved_; }

  QTableWidget* episodesTable() const { return episodes_; }
  SegmentTimeline* timeline() const { return timeline_; }
  QLineEdit* taskEdit() const { return task_; }
  QComboBox* successBox() const { return success_; }
  QPushButton* saveButton() const { return saveButton_; }
  QSlider* scrubber() const { return scrubber_; }
  QString currentPath() const { return path_; }
  QPushButton* trainButton() const { return trainButton_; }
  QComboBox* verdictFilter() const { return verdictFilter_; }
  JointPlot* jointPlot() const { return plot_; }
  TrainDialog* trainDialog() const;      // the one open, if any
  QStringList selectedEpisodes() const;  // files of the selected rows a training set may read, in order
  void openTrainDialog();
  QPushButton* trimIdleButton() const { return trimIdleButton_; }
  // Trims the idle head and tail of the selected episodes: the open one as an edit (undo, then save),
  // the others saved at once. Returns how many were trimmed; says why for each one that was not.
  int trimIdleSelected();

 Q_SIGNALS:
  void message(const QString& text);
  void policyTrained(const QString& path);  // "Use in Run Policy" in the training dialog

 private:
  void buildUi();
  EpisodeLabels labels() const;
  void showLabels(const EpisodeLabels& labels);
  void remember();  // pushes the current labels onto the undo stack
  void seek(int tick);
  void togglePlay();
  void reopen();  // after a save: the reader had to let go of the file
  void selectionChanged();
  // review_quality.cpp: the verdict column, its filter and the idle shading of the joint plot.
  static constexpr int kVerdictColumn = 8;
  static QTableWidgetItem* verdictItem(const EpisodeEntry& entry);
  QComboBox* makeVerdictFilter(QWidget* parent);
  void applyVerdictFilter();
  void showIdle();

  const DatasetFolder& dataset_;
  QString path_;
  std::unique_ptr<EpisodeReader> reader_;
  EpisodeSummary summary_;
  std::vector<double> times_;  // each tick's time (/timestamp): the timeline's seconds
  EpisodeLabels saved_;
  std::vector<EpisodeLabels> undo_;
  bool showing_ = false;         // while fields are filled in programmatically
  std::string indexNotWritten_;  // why index.json could not be replaced, once said

  QTableWidget* episodes_ = nullptr;
  QComboBox* verdictFilter_ = nullptr;
  std::vector<FrameView*> frames_;
  QWidget* framesBox_ = nullptr;
  QSlider* scrubber_ = nullptr;
  QPushButton* playButton_ = nullptr;
  QLabel* timeLabel_ = nullptr;
  JointPlot* plot_ = nullptr;
  SegmentTimeline* timeline_ = nullptr;
  QLineEdit* segmentText_ = nullptr;
  QLineEdit* task_ = nullptr;
  QComboBox* success_ = nullptr;
  QPlainTextEdit* notes_ = nullptr;
  QLineEdit* tags_ = nullptr;
  QPushButton* saveButton_ = nullptr;
  QPushButton* undoButton_ = nullptr;
  QPushButton* trainButton_ = nullptr;
  QPushButton* trimIdleButton_ = nullptr;
  QPointer<TrainDialog> trainDialog_;
  QTimer player_;
};

}  // namespace flywheel::gui
