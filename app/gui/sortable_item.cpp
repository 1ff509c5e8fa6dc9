#include "app/gui/sortable_item.hpp"

namespace flywheel::gui {

SortableItem::SortableItem(const QString& text, double key) : QTableWidgetItem(text), key_(key) {}

bool SortableItem::operator<(const QTableWidgetItem& other) const {
  auto* sortable = dynamic_cast<const SortableItem*>(&other);
  return sortable ? key_ < sortable->key_ : QTableWidgetItem::operator<(other);
}

}  // namespace flywheel::gui
