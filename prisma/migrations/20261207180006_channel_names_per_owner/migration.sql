-- DropIndex
DROP INDEX "channels_name_key";

-- DropIndex
DROP INDEX "channels_owner_id_idx";

-- CreateIndex
CREATE INDEX "channels_name_id_idx" ON "channels"("name", "id");

-- CreateIndex
CREATE UNIQUE INDEX "channels_owner_id_name_key" ON "channels"("owner_id", "name");
