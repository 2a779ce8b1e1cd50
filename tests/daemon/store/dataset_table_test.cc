// DatasetTable: datasets added, read, listed by name and deleted.
#include "daemon/store/schema.h"
#include "daemon/store/dataset_table.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "daemon/store/sqlite_db.h"
#include "tests/daemon/store/test_util.h"

namespace petabox::daemon {
namespace {

using testutil::Contains;
using testutil::MakeDataset;
using testutil::SameMessage;

class DatasetTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    StatusOr<sqlite::Db> db = sqlite::Db::Open(dir_.path() + "/petabox.db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::make_unique<sqlite::Db>(std::move(db).value());
    ASSERT_TRUE(CreateOrMigrateSchema(*db_).ok());
    table_ = std::make_unique<DatasetTable>(db_.get());
    datasets_ = table_.get();
  }

  testutil::TempDir dir_;
  std::unique_ptr<sqlite::Db> db_;
  std::unique_ptr<DatasetTable> table_;
  DatasetTable* datasets_ = nullptr;
};

TEST_F(DatasetTableTest, DatasetsAddGetListDelete) {
  ASSERT_TRUE(datasets_->AddDataset(MakeDataset("zeta", 10)).ok());
  ASSERT_TRUE(datasets_->AddDataset(MakeDataset("alpha", 20)).ok());
  Status again = datasets_->AddDataset(MakeDataset("zeta", 30));
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Contains(again.message(), "datasets/zeta"));

  StatusOr<v1::Dataset> got = datasets_->GetDataset("datasets/zeta");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(SameMessage(*got, MakeDataset("zeta", 10)));
  StatusOr<std::vector<v1::Dataset>> all = datasets_->ListDatasets();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name(), "datasets/alpha");
  EXPECT_EQ((*all)[1].name(), "datasets/zeta");

  ASSERT_TRUE(datasets_->DeleteDataset("datasets/zeta").ok());
  EXPECT_EQ(datasets_->DeleteDataset("datasets/zeta").code(), StatusCode::kNotFound);
  EXPECT_EQ(datasets_->GetDataset("datasets/zeta").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(datasets_->ListDatasets()->size(), 1u);
}

// A dataset row that is not a Dataset message is a corruption, not a crash.
TEST_F(DatasetTableTest, CorruptRowIsInternal) {
  ASSERT_TRUE(db_->Exec("INSERT INTO datasets (name, dataset) VALUES ('datasets/bad', x'ffffffff')").ok());
  StatusOr<v1::Dataset> got = datasets_->GetDataset("datasets/bad");
  EXPECT_EQ(got.status().code(), StatusCode::kInternal);
  EXPECT_TRUE(Contains(got.status().message(), "corrupt dataset row"));
  EXPECT_EQ(datasets_->ListDatasets().status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace petabox::daemon
