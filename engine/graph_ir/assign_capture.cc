#include "engine/graph_ir/assign_capture.h"

namespace petabox::graph {
namespace {
thread_local AssignCapture* active = nullptr;
}  // namespace

AssignCapture::AssignCapture() : previous_(active) { active = this; }
AssignCapture::~AssignCapture() { active = previous_; }
AssignCapture* AssignCapture::Active() { return active; }

}  // namespace petabox::graph
