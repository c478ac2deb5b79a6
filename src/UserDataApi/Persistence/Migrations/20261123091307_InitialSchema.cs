using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace UserDataApi.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class InitialSchema : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "server_keys",
                columns: table => new
                {
                    name = table.Column<string>(type: "text", nullable: false),
                    material = table.Column<byte[]>(type: "bytea", nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_server_keys", x => x.name);
                });

            migrationBuilder.CreateTable(
                name: "user_data_records",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    user_id = table.Column<string>(type: "text", nullable: false),
                    identity_provider = table.Column<string>(type: "text", nullable: false),
                    value_key = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    value_data = table.Column<string>(type: "text", nullable: false),
                    access_scope = table.Column<short>(type: "smallint", nullable: false),
                    client_app_id = table.Column<string>(type: "text", nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_user_data_records", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ux_user_data_records_user_idp_key",
                table: "user_data_records",
                columns: new[] { "user_id", "identity_provider", "value_key" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "server_keys");

            migrationBuilder.DropTable(
                name: "user_data_records");
        }
    }
}
