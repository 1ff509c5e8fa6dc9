// ReviewView's wiring: the episode table, the player (frames, joint plot, segment timeline) and the label
// fields; the widgets it places are in their own files.
#include "app/gui/review_view.hpp"

#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QShortcut>
#include <QSplitter>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "app/gui/frame_view.hpp"
#include "app/gui/joint_plot.hpp"
#include "app/gui/segment_timeline.hpp"
#include "app/gui/sortable_item.hpp"
#include "app/gui/train_dialog.hpp"
#include "recorder/dataset_index.hpp"
#include "recorder/recording_mark.hpp"
#include "recorder/trims.hpp"

namespace flywheel::gui {

namespace {

QString q(const std::string& text) {
  return QString::fromStdString(text);
}

constexpr int kStatusRole = Qt::UserRole + 1;  // on column 0, beside the file: the EpisodeStatus

// /policy_source as runs of one source (empty for files without one), on the ticks' measured times as
// the human-control spans are: a run ends where the next tick starts, the last one period after its tick.
std::vector<SegmentTimeline::SourceBand> sourceBandsOf(const std::vector<PolicySource>& sources,
                                                       const std::vector<double>& times, double period) {
  std::vector<SegmentTimeline::SourceBand> bands;
  const std::size_t n = std::min(sources.size(), times.size());
  for (std::size_t t = 0; t < n; ++t) {
    const double end = t + 1 < n ? times[t + 1] : times[t] + period;
    if (bands.empty() || bands.back().source != sources[t])
      bands.push_back({times[t], end, sources[t]});
    else
      bands.back().end = end;
  }
  return bands;
}

}  // namespace

ReviewView::ReviewView(const DatasetFolder& dataset, QWidget* parent) : QWidget(parent), dataset_(dataset) {
  buildUi();
  reloadEpisodes();
}

ReviewView::~ReviewView() = default;

void ReviewView::buildUi() {
  auto* layout = new QHBoxLayout(this);
  auto* splitter = new QSplitter(this);
  layout->addWidget(splitter);

  auto* browser = new QWidget(splitter);
  auto* browserLayout = new QVBoxLayout(browser);
  browserLayout->setContentsMargins(0, 0, 0, 0);
  episodes_ = new QTableWidget(0, 9, browser);
  episodes_->setHorizontalHeaderLabels(
      {"#", "Status", "Seconds", "Task", "Success", "Labelled", "Segments", "Interventions", "Verdict"});
  episodes_->verticalHeader()->setVisible(false);
  episodes_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  episodes_->setSelectionBehavior(QAbstractItemView::SelectRows);
  episodes_->setSelectionMode(QAbstractItemView::ExtendedSelection);  // several, to train on
  episodes_->setSortingEnabled(true);
  episodes_->horizontalHeader()->setStretchLastSection(true);
  auto* reload = new QPushButton("Reload the dataset", browser);
  trainButton_ = new QPushButton("Train…", browser);
  trainButton_->setToolTip("Train a policy on the selected episodes (Shift or Ctrl+click selects several)");
  trimIdleButton_ = new QPushButton("Trim idle", browser);
  trimIdleButton_->setToolTip("Trim the idle head and tail (no joint moving) of the selected episodes");
  browserLayout->addWidget(new QLabel(QString("<b>Episodes</b> in %1").arg(q(dataset_.path())), browser));
  browserLayout->addWidget(makeVerdictFilter(browser));
  browserLayout->addWidget(episodes_, 1);
  auto* browserButtons = new QHBoxLayout();
  browserButtons->addWidget(reload);
  browserButtons->addWidget(trimIdleButton_);
  browserButtons->addWidget(trainButton_);
  browserLayout->addLayout(browserButtons);

  auto* player = new QWidget(splitter);
  auto* playerLayout = new QVBoxLayout(player);
  playerLayout->setContentsMargins(0, 0, 0, 0);
  framesBox_ = new QWidget(player);
  new QGridLayout(framesBox_);
  playerLayout->addWidget(framesBox_, 3);
  auto* transport = new QHBoxLayout();
  playButton_ = new QPushButton("Play  [Space]", player);
  scrubber_ = new QSlider(Qt::Horizontal, player);
  timeLabel_ = new QLabel("0.00 s", player);
  transport->addWidget(playButton_);
  transport->addWidget(scrubber_, 1);
  transport->addWidget(timeLabel_);
  playerLayout->addLayout(transport);
  plot_ = new JointPlot(player);
  playerLayout->addWidget(plot_, 1);
  timeline_ = new SegmentTimeline(player);
  playerLayout->addWidget(
      new QLabel("Language segments: drag on the timeline to add one, drag to move or resize, "
                 "double-click to edit, Delete to remove. Drag the yellow ends to trim; right-click "
                 "human control to split it or mark recovery/correction",
                 player));
  playerLayout->addWidget(timeline_);
  segmentText_ = new QLineEdit(player);
  segmentText_->setPlaceholderText("Text of the selected segment");
  playerLayout->addWidget(segmentText_);

  auto* fields = new QGroupBox("Episode", splitter);
  auto* form = new QFormLayout(fields);
  task_ = new QLineEdit(fields);
  success_ = new QComboBox(fields);
  success_->addItems({"unknown", "success", "failure"});
  notes_ = new QPlainTextEdit(fields);
  tags_ = new QLineEdit(fields);
  tags_->setPlaceholderText("comma, separated");
  saveButton_ = new QPushButton("Save labels  [Ctrl+S]", fields);
  saveButton_->setObjectName("saveLabelsButton");
  undoButton_ = new QPushButton("Undo  [Ctrl+Z]", fields);
  form->addRow("Task", task_);
  form->addRow("Outcome", success_);
  form->addRow("Notes", notes_);
  form->addRow("Tags", tags_);
  form->addRow(saveButton_);
  form->addRow(undoButton_);
  splitter->setStretchFactor(0, 2);
  splitter->setStretchFactor(1, 5);
  splitter->setStretchFactor(2, 2);
  splitter->setSizes({400, 900, 300});

  connect(reload, &QPushButton::clicked, this, &ReviewView::reloadEpisodes);
  connect(episodes_, &QTableWidget::itemSelectionChanged, this, &ReviewView::selectionChanged);
  connect(trainButton_, &QPushButton::clicked, this, &ReviewView::openTrainDialog);
  connect(trimIdleButton_, &QPushButton::clicked, this, &ReviewView::trimIdleSelected);
  connect(scrubber_, &QSlider::valueChanged, this, &ReviewView::seek);
  connect(playButton_, &QPushButton::clicked, this, &ReviewView::togglePlay);
  connect(&player_, &QTimer::timeout, this, [this] {
    if (scrubber_->value() >= scrubber_->maximum()) return togglePlay();
    scrubber_->setValue(scrubber_->value() + 1);
  });
  connect(timeline_, &SegmentTimeline::segmentsEdited, this, [this] { remember(); });
  connect(timeline_, &SegmentTimeline::trimEdited, this, [this] { remember(); });
  connect(timeline_, &SegmentTimeline::seekRequested, this, [this](double seconds) {
    // The tick shown at `seconds`: the last one that started by then.
    const auto after = std::upper_bound(times_.begin(), times_.end(), seconds);
    scrubber_->setValue(static_cast<int>(std::max<std::ptrdiff_t>(0, after - times_.begin() - 1)));
  });
  connect(timeline_, &SegmentTimeline::selectionChanged, this, [this](int index) {
    showing_ = true;
    segmentText_->setText(index >= 0 ? q(timeline_->segments()[index].text) : QString());
    segmentText_->setEnabled(index >= 0);
    showing_ = false;
  });
  connect(segmentText_, &QLineEdit::editingFinished, this, [this] {
    if (!showing_) timeline_->setSelectedText(segmentText_->text());
  });
  for (QLineEdit* edit : {task_, tags_})
    connect(edit, &QLineEdit::editingFinished, this, [this] { remember(); });
  connect(success_, &QComboBox::currentIndexChanged, this, [this] {
    if (!showing_) remember();
  });
  connect(saveButton_, &QPushButton::clicked, this, &ReviewView::save);
  connect(undoButton_, &QPushButton::clicked, this, &ReviewView::undo);
  // Window-wide keys, live only while this view shows.
  new QShortcut(QKeySequence::Save, this, [this] {
    if (isVisible()) save();
  });
  new QShortcut(QKeySequence::Undo, this, [this] {
    if (isVisible()) undo();
  });
  new QShortcut(QKeySequence(Qt::Key_Space), this, [this] {
    if (isVisible()) togglePlay();
  });
}

void ReviewView::reloadEpisodes() {
  std::string notWritten;
  std::vector<EpisodeEntry> entries = DatasetIndex(dataset_.path()).scan(notWritten);
  if (!notWritten.empty() && notWritten != indexNotWritten_) {  // said once, not on every reload
    const QString text = QString("Read-only dataset: index.json left as it was (%1)").arg(q(notWritten));
    // Queued: the first reload runs in the constructor, before anyone is connected to message().
    QMetaObject::invokeMethod(
        this, [this, text] { Q_EMIT message(text); }, Qt::QueuedConnection);
  }
  indexNotWritten_ = notWritten;
  episodes_->setSortingEnabled(false);
  episodes_->setRowCount(static_cast<int>(entries.size()));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const EpisodeEntry& e = entries[i];
    const int row = static_cast<int>(i);
    auto* number = new SortableItem(QString::number(e.number), e.number);
    number->setData(Qt::UserRole, q((std::filesystem::path(dataset_.path()) / e.file).string()));
    number->setData(kStatusRole, static_cast<int>(e.status));
    episodes_->setItem(row, 0, number);
    auto* status = new QTableWidgetItem(nameOf(e.status));
    status->setToolTip(q(e.problem));  // why it is damaged, busy or was cut short
    episodes_->setItem(row, 1, status);
    episodes_->setItem(row, 2, new SortableItem(QString::number(e.duration, 'f', 1), e.duration));
    episodes_->setItem(row, 3, new QTableWidgetItem(readable(e.status) ? q(e.task) : q(e.problem)));
    episodes_->setItem(row, 4, new QTableWidgetItem(e.success ? (*e.success ? "yes" : "no") : "?"));
    episodes_->setItem(row, 5, new QTableWidgetItem(e.labelled() ? "yes" : "no"));
    episodes_->setItem(row, 6,
                       new SortableItem(QString::number(e.segments), static_cast<double>(e.segments)));
    episodes_->setItem(row, 7, new SortableItem(QString::number(e.interventions), e.interventions));
    episodes_->setItem(row, kVerdictColumn, verdictItem(e));
    if (e.status != EpisodeStatus::Complete)
      for (int c = 0; c < episodes_->columnCount(); ++c)
        episodes_->item(row, c)->setForeground(e.status == EpisodeStatus::Damaged ? QColor(200, 50, 50)
                                               : e.status == EpisodeStatus::Incomplete
                                                   ? QColor(200, 140, 0)
                                                   : QColor(120, 120, 120));
  }
  episodes_->setSortingEnabled(true);
  episodes_->sortItems(0, Qt::AscendingOrder);
  episodes_->resizeColumnsToContents();
  applyVerdictFilter();
  if (path_.isEmpty() && episodes_->rowCount() > 0) episodes_->selectRow(0);  // something to look at at once
  selectionChanged();
}

// Plays the row last clicked (or the first selected); Train… wants a complete episode among the selected.
void ReviewView::selectionChanged() {
  const QModelIndexList rows = episodes_->selectionModel()->selectedRows();
  bool complete = false;
  for (const QModelIndex& row : rows)
    complete |= episodes_->item(row.row(), 0)->data(kStatusRole).toInt() == int(EpisodeStatus::Complete);
  trainButton_->setEnabled(complete);
  trimIdleButton_->setEnabled(complete);
  if (rows.isEmpty()) return;
  const int current = episodes_->currentRow();
  const int row =
      current >= 0 && episodes_->selectionModel()->isRowSelected(current) ? current : rows.front().row();
  const QString file = episodes_->item(row, 0)->data(Qt::UserRole).toString();
  if (file != path_) openEpisode(file);
}

// Damaged and incomplete ones go too: the training set skips them and the dialog says why. Takes being
// written are left out: they are never opened.
QStringList ReviewView::selectedEpisodes() const {
  QStringList files;
  for (int row = 0; row < episodes_->rowCount(); ++row) {
    const auto status = static_cast<EpisodeStatus>(episodes_->item(row, 0)->data(kStatusRole).toInt());
    if (episodes_->selectionModel()->isRowSelected(row) && status != EpisodeStatus::Recording &&
        status != EpisodeStatus::Busy)
      files << episodes_->item(row, 0)->data(Qt::UserRole).toString();
  }
  return files;
}

TrainDialog* ReviewView::trainDialog() const {
  return trainDialog_;
}

void ReviewView::openTrainDialog() {
  if (trainDialog_ && trainDialog_->running()) return trainDialog_->raise();  // it uses every core
  delete trainDialog_;  // a finished one: the new selection gets a new dialog
  trainDialog_ = new TrainDialog(selectedEpisodes(), q(dataset_.path()), this);
  trainDialog_->setAttribute(Qt::WA_DeleteOnClose);
  connect(trainDialog_, &TrainDialog::usePolicy, this, &ReviewView::policyTrained);
  trainDialog_->show();
}

bool ReviewView::openEpisode(const QString& path) {
  player_.stop();
  // Everything is read and checked before the view changes: a damaged file leaves the view as it was.
  std::vector<double> qpos, times;
  try {
    if (RecordingMark::held(path.toStdString())) throw RecorderError("a take in progress");
    auto reader = std::make_unique<EpisodeReader>(path.toStdString());
    EpisodeSummary summary = reader->summary();
    if (!summary.problem.empty()) throw RecorderError("damaged (" + summary.problem + ")");
    EpisodeLabels labels = readLabelsOf(reader->file());
    qpos = reader->readDoubles("/observations/qpos");
    times = tickTimes(*reader, summary);
    summary_ = std::move(summary);
    times_ = std::move(times);
    saved_ = std::move(labels);
    reader_ = std::move(reader);
  } catch (const std::exception& e) {
    Q_EMIT message(QString("Cannot open %1: %2").arg(QFileInfo(path).fileName(), e.what()));
    return false;
  }
  path_ = path;
  undo_.clear();
  for (FrameView* frame : frames_)
    delete frame;
  frames_.clear();
  auto* grid = static_cast<QGridLayout*>(framesBox_->layout());
  for (std::size_t c = 0; c < summary_.cameras.size(); ++c) {
    auto* frame = new FrameView(q(summary_.cameras[c].name), framesBox_);
    grid->addWidget(frame, static_cast<int>(c) / 2, static_cast<int>(c) % 2);
    frames_.push_back(frame);
  }
  // The timeline runs on the ticks' measured times (/timestamp), as trims and segments are kept and as
  // training and export apply them: on a take that fell behind its rate, tick / fps would drift.
  const double period = summary_.fps > 0 ? 1.0 / summary_.fps : 0.0;
  std::vector<std::pair<double, double>> interventions;
  try {
    for (const TimeSpan& span : humanControlSpans(reader_->readDoubles("/intervention"), times_, period))
      interventions.emplace_back(span.start, span.end);
  } catch (const RecorderError&) {
    // a teleoperated demonstration: nobody took over
  }
  timeline_->setEpisode(trimmableDuration(summary_), saved_.segments, interventions);
  try {
    timeline_->setSourceBands(sourceBandsOf(reader_->readPolicySources(), times_, period));
  } catch (const RecorderError& e) {  // a damaged /policy_source is said, not drawn
    timeline_->setSourceBands({});
    Q_EMIT message(QString("Policy sources not shown: %1").arg(e.what()));
  }
  plot_->setData(std::move(qpos), summary_.joints);
  showIdle();
  player_.setInterval(summary_.fps > 0 ? static_cast<int>(1000.0 / summary_.fps) : 20);
  scrubber_->setRange(0, std::max<int>(0, static_cast<int>(summary_.ticks) - 1));
  showLabels(saved_);
  seek(0);
  scrubber_->setValue(0);
  Q_EMIT message(QString("Opened %1").arg(QFileInfo(path).fileName()));
  return true;
}

EpisodeLabels ReviewView::labels() const {
  EpisodeLabels labels = saved_;  // operator and anything not edited here stay as saved
  labels.task = task_->text().toStdString();
  labels.success =
      success_->currentIndex() == 0 ? std::nullopt : std::optional<bool>(success_->currentIndex() == 1);
  labels.notes = notes_->toPlainText().toStdString();
  labels.tags.clear();
  for (const QString& tag : tags_->text().split(',', Qt::SkipEmptyParts))
    labels.tags.push_back(tag.trimmed().toStdString());
  labels.segments = timeline_->segments();
  labels.trimStart = timeline_->trimStart();
  labels.trimEnd = timeline_->trimEnd();
  return labels;
}

void ReviewView::showLabels(const EpisodeLabels& labels) {
  showing_ = true;
  task_->setText(q(labels.task));
  success_->setCurrentIndex(!labels.success ? 0 : (*labels.success ? 1 : 2));
  notes_->setPlainText(q(labels.notes));
  QStringList tags;
  for (const std::string& tag : labels.tags)
    tags << q(tag);
  tags_->setText(tags.join(", "));
  if (timeline_->segments() != labels.segments) timeline_->setSegments(labels.segments);
  timeline_->setTrim(labels.trimStart, labels.trimEnd);
  showing_ = false;
}

void ReviewView::remember() {
  if (!reader_) return;
  EpisodeLabels now = labels();
  if (undo_.empty() ? now != saved_ : now != undo_.back()) undo_.push_back(now);
}

void ReviewView::undo() {
  if (undo_.empty()) return;
  undo_.pop_back();
  showLabels(undo_.empty() ? saved_ : undo_.back());
}

bool ReviewView::save() {
  if (!reader_) return false;
  EpisodeLabels edited = labels();
  if (std::string problem = validateSegments(edited.segments, trimmableDuration(summary_));
      !problem.empty()) {
    Q_EMIT message(QString("Not saved: %1").arg(q(problem)));
    return false;
  }
  if (std::string problem = validateTrim(edited, trimmableDuration(summary_)); !problem.empty()) {
    Q_EMIT message(QString("Not saved: %1").arg(q(problem)));
    return false;
  }
  // HDF5 will not open a file for writing while this process has it open for reading.
  reader_.reset();
  try {
    writeLabels(path_.toStdString(), edited);
    DatasetIndex(dataset_.path()).update(path_.toStdString());
  } catch (const std::exception& e) {
    Q_EMIT message(QString("Not saved: %1").arg(e.what()));
    reopen();
    return false;
  }
  reopen();
  saved_ = edited;
  undo_.clear();
  const QString saved = path_;
  reloadEpisodes();
  Q_EMIT message(QString("Saved the labels of %1").arg(QFileInfo(saved).fileName()));
  return true;
}

void ReviewView::reopen() {
  try {
    reader_ = std::make_unique<EpisodeReader>(path_.toStdString());
  } catch (const std::exception& e) {  // someone else took the file meanwhile: nothing to play
    reader_.reset();
    Q_EMIT message(QString("Cannot reopen %1: %2").arg(QFileInfo(path_).fileName(), e.what()));
  }
}

void ReviewView::seek(int tick) {
  if (!reader_ || summary_.ticks == 0) return;
  const double seconds = static_cast<std::size_t>(tick) < times_.size() ? times_[tick] : 0.0;
  timeLabel_->setText(
      QString("%1 s / %2 s").arg(seconds, 0, 'f', 2).arg(trimmableDuration(summary_), 0, 'f', 2));
  timeline_->setPlayhead(seconds);
  plot_->setPlayhead(summary_.ticks > 1 ? static_cast<double>(tick) / (summary_.ticks - 1) : 0.0);
  for (std::size_t c = 0; c < frames_.size(); ++c) {
    try {
      frames_[c]->show(reader_->readFrame(summary_.cameras[c].name, static_cast<std::size_t>(tick)));
    } catch (const RecorderError& e) {
      frames_[c]->showError(e.what());
    }
  }
}

void ReviewView::togglePlay() {
  if (player_.isActive()) {
    player_.stop();
    playButton_->setText("Play  [Space]");
  } else if (reader_) {
    if (scrubber_->value() >= scrubber_->maximum()) scrubber_->setValue(0);
    player_.start();
    playButton_->setText("Pause  [Space]");
  }
}

}  // namespace flywheel::gui
