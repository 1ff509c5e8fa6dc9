// The episode's timeline with its language segments as boxes: drag on empty space to add one, drag a box
// to move it, drag its edges to resize it, double-click to edit its text, Delete to remove it. Also draws
// intervention bands and the playhead; a click on empty space moves the playhead.
//
// Trim marks: a handle at each end of the timeline (yellow, grabbed in the ruler strip or anywhere off a
// box); dragging one in trims the episode there, dragging it back to the end clears that mark. The time
// outside the trim is dimmed.
//
// Policy runs with a fallback: where the fallback drove (purple) and where nothing did, the followers
// holding (red), as bands behind everything, from /policy_source; human control is the takeover band.
//
// Human control (policy runs): a lower lane holds the recovery and correction segments, and every part of
// a human-controlled span that none covers yet as a dashed box to review. Right-click there (or on any
// segment): "Split here", "Mark as recovery", "Mark as correction". Splitting an unreviewed span makes
// a recovery part and a correction part.
#pragma once

#include <QWidget>
#include <memory>
#include <optional>

#include "recorder/labels.hpp"
#include "recorder/trims.hpp"

class QMenu;

namespace flywheel::gui {

class SegmentTimeline : public QWidget {
  Q_OBJECT
 public:
  explicit SegmentTimeline(QWidget* parent = nullptr);
  void setEpisode(double duration, std::vector<Segment> segments,
                  std::vector<std::pair<double, double>> interventions);
  void setSegments(std::vector<Segment> segments);
  // Spans of the episode with their source (recorder's /policy_source), drawn as bands; main and human are
  // not drawn (the takeover bands show human control).
  struct SourceBand {
    double start = 0.0, end = 0.0;
    PolicySource source = PolicySource::Main;
  };
  void setSourceBands(std::vector<SourceBand> bands);
  const std::vector<SourceBand>& sourceBands() const { return sourceBands_; }
  void setPlayhead(double seconds);
  const std::vector<Segment>& segments() const { return segments_; }
  int selected() const { return selected_; }
  void setSelectedText(const QString& text);

  void setTrim(std::optional<double> start, std::optional<double> end);
  std::optional<double> trimStart() const { return trimStart_; }
  std::optional<double> trimEnd() const { return trimEnd_; }
  // Human-controlled time that no recovery or correction segment covers yet.
  std::vector<TimeSpan> unreviewed() const;
  // The right-click menu at a point (null where there is nothing to act on); its actions edit at once.
  std::unique_ptr<QMenu> menuAt(QPoint point);
  // Pixel positions for the lanes, for tests that drive the mouse.
  int xAt(double seconds) const;
  int languageLaneY() const;
  int controlLaneY() const;

 Q_SIGNALS:
  void segmentsEdited();  // after each finished edit (for undo and the dirty flag)
  void trimEdited();      // after a trim handle is let go where it changed the trim
  void selectionChanged(int index);
  void seekRequested(double seconds);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void contextMenuEvent(QContextMenuEvent* event) override;

 private:
  enum class Drag { None, Create, Move, ResizeStart, ResizeEnd, TrimStart, TrimEnd };
  double secondsAt(int x) const;
  QRect boxOf(const Segment& segment) const;
  QRect boxOf(const TimeSpan& span) const;  // an unreviewed span, in the control lane
  int segmentAt(QPoint point) const;
  int unreviewedAt(QPoint point) const;
  Drag trimHandleAt(QPoint point) const;
  void paintTrim(QPainter& p);
  void paintControlLane(QPainter& p);
  void dragTrim(double t);
  void splitAt(double t, int segment, int span);
  void markAs(SpanKind kind, int segment, int span);
  void edited(int select);  // sorts, selects `select` (an index before sorting), emits segmentsEdited

  double duration_ = 1.0;
  std::vector<Segment> segments_;
  std::vector<std::pair<double, double>> interventions_;
  std::vector<TimeSpan> human_;
  std::vector<SourceBand> sourceBands_;
  std::optional<double> trimStart_, trimEnd_;
  double playhead_ = 0.0;
  int selected_ = -1;
  Drag drag_ = Drag::None;
  double dragAnchor_ = 0.0;
  Segment dragOriginal_;
  std::optional<double> trimOriginal_;
};

}  // namespace flywheel::gui
