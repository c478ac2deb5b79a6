using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace UserDataApi.Persistence.Migrations
{
    /// <summary>
    /// The user-data sub-families as namespaces of the schema (SPEC §3.4): a record's family is part of its key, and
    /// only by-idp records name an identity provider. Existing records are by-idp's.
    /// </summary>
    public partial class UserDataFamilies : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<short>(
                name: "family",
                table: "user_data_records",
                type: "smallint",
                nullable: false,
                defaultValue: (short)0);

            migrationBuilder.CreateIndex(
                name: "ux_user_data_records_user_family_idp_key",
                table: "user_data_records",
                columns: new[] { "user_id", "family", "identity_provider", "value_key" },
                unique: true);

            // Only now that the new key holds: every record until here is by-idp's (family 0).
            migrationBuilder.DropIndex(
                name: "ux_user_data_records_user_idp_key",
                table: "user_data_records");

            migrationBuilder.AddCheckConstraint(
                name: "ck_user_data_records_family",
                table: "user_data_records",
                sql: "(family = 0 AND identity_provider <> '') OR (family IN (1, 2) AND identity_provider = '')");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ux_user_data_records_user_family_idp_key",
                table: "user_data_records");

            migrationBuilder.DropCheckConstraint(
                name: "ck_user_data_records_family",
                table: "user_data_records");

            migrationBuilder.DropColumn(
                name: "family",
                table: "user_data_records");

            migrationBuilder.CreateIndex(
                name: "ux_user_data_records_user_idp_key",
                table: "user_data_records",
                columns: new[] { "user_id", "identity_provider", "value_key" },
                unique: true);
        }
    }
}
