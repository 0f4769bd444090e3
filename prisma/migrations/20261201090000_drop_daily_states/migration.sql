-- DropForeignKey
ALTER TABLE "daily_states" DROP CONSTRAINT "daily_states_user_id_fkey";

-- DropTable
DROP TABLE "daily_states";
