// upload, datasets.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "client/cli/box_view.h"
#include "client/cli/commands.h"
#include "client/cli/format.h"
#include "client/cli/json.h"
#include "client/cli/terminal.h"
#include "client/lib/dataset_client.h"
#include "client/lib/image_folder.h"
#include "client/lib/upload.h"

namespace petabox::cli {
namespace {

struct UploadArgs {
  std::string path;
  std::string name;
};

// A temporary directory, removed with its contents at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "petabox-upload-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Outcome RunUpload(CommandContext& context, const UploadArgs& args) {
  const bool tty = IsTerminal(STDERR_FILENO);
  const int width = TerminalWidth(STDERR_FILENO);
  LiveLine live(std::cerr);
  // An image folder (train/CLASS/IMAGE, val/CLASS/IMAGE) goes up as .npy arrays.
  TempDir converted;
  std::string path = args.path;
  if (client::IsImageFolder(args.path)) {
    if (converted.path().empty()) return UsageError(Internal("cannot create a temporary directory"));
    if (tty) live.Show("decoding images in " + args.path + " ...");
    Status s = client::ConvertImageFolder(args.path, converted.path());
    if (tty) live.Clear();
    if (!s.ok()) return UsageError(s);
    path = converted.path();
  }
  if (tty) live.Show("hashing " + path + " ...");
  StatusOr<client::UploadPlan> plan = client::PlanUpload(path, args.name);
  if (tty) live.Clear();
  if (!plan.ok()) return UsageError(plan.status());
  auto connection = context.Connect();
  if (!connection.ok()) return UsageError(connection.status());
  const std::string label = "uploading " + plan->header.name() + " ";
  std::function<void(int64_t)> on_progress;
  if (tty) {
    on_progress = [&](int64_t sent) {
      live.Show(label + RenderTransfer(sent, plan->total_bytes, width - 1 - static_cast<int>(label.size())));
    };
    on_progress(0);
  }
  StatusOr<v1::Dataset> dataset = client::DatasetClient(**connection).Upload(*plan, on_progress);
  if (tty) live.Finish();
  if (!dataset.ok()) return context.RpcFailure(dataset.status());
  if (context.json()) {
    std::cout << ToJson(*dataset) << "\n";
  } else {
    std::cout << dataset->name() << ": " << dataset->files_size() << " files, " << FormatBytes(dataset->total_bytes())
              << "\n";
  }
  return Success();
}

Outcome RunDatasets(CommandContext& context) {
  auto connection = context.Connect();
  if (!connection.ok()) return UsageError(connection.status());
  StatusOr<v1::ListDatasetsResponse> datasets = client::DatasetClient(**connection).ListDatasets();
  if (!datasets.ok()) return context.RpcFailure(datasets.status());
  if (context.json()) {
    std::cout << ToJson(*datasets) << "\n";
  } else if (datasets->datasets_size() == 0) {
    std::cout << "No datasets.\n";
  } else {
    std::cout << DatasetsTable(*datasets, Now()).Render();
  }
  return Success();
}

}  // namespace

void AddDatasetCommands(CLI::App& app, CommandContext& context, Action* action) {
  auto args = std::make_shared<UploadArgs>();
  CLI::App* upload = app.add_subcommand(
      "upload",
      "Upload a file, or a directory's regular files (not recursing), as a dataset: IDX files (dataset name "
      "fashion-mnist in a job spec), .npy arrays train_x/train_y/test_x/test_y (name npy), or an image folder "
      "(train/CLASS/IMAGE and val/CLASS/IMAGE: converted to .npy arrays; name npy)");
  upload->add_option("path", args->path, "File or directory")->required();
  upload->add_option("--name", args->name, "Dataset name: lowercase letters, digits, '-' (datasets/NAME)")->required();
  upload->callback([&context, action, args] { *action = [&context, args] { return RunUpload(context, *args); }; });

  CLI::App* datasets = app.add_subcommand("datasets", "List the datasets on the box");
  datasets->callback([&context, action] { *action = [&context] { return RunDatasets(context); }; });
}

}  // namespace petabox::cli
