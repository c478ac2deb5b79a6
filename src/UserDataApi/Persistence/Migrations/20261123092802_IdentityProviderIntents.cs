using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace UserDataApi.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class IdentityProviderIntents : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "idp_intents",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    idp_id = table.Column<string>(type: "text", nullable: false),
                    resource_owner = table.Column<string>(type: "text", nullable: false),
                    state = table.Column<short>(type: "smallint", nullable: false),
                    sequence = table.Column<long>(type: "bigint", nullable: false),
                    state_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    protected_verifier = table.Column<byte[]>(type: "bytea", nullable: false),
                    nonce = table.Column<string>(type: "text", nullable: false),
                    success_url = table.Column<string>(type: "text", nullable: false),
                    failure_url = table.Column<string>(type: "text", nullable: false),
                    token_hash = table.Column<byte[]>(type: "bytea", nullable: true),
                    idp_user_id = table.Column<string>(type: "text", nullable: true),
                    idp_user_name = table.Column<string>(type: "text", nullable: true),
                    raw_information = table.Column<string>(type: "jsonb", nullable: true),
                    protected_access_token = table.Column<byte[]>(type: "bytea", nullable: true),
                    protected_id_token = table.Column<byte[]>(type: "bytea", nullable: true),
                    failure_reason = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    changed_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_idp_intents", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "idp_links",
                columns: table => new
                {
                    idp_id = table.Column<string>(type: "text", nullable: false),
                    linked_user_id = table.Column<string>(type: "text", nullable: false),
                    linked_user_name = table.Column<string>(type: "text", nullable: false),
                    user_id = table.Column<string>(type: "text", nullable: false),
                    resource_owner = table.Column<string>(type: "text", nullable: false),
                    sequence = table.Column<long>(type: "bigint", nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_idp_links", x => new { x.idp_id, x.linked_user_id });
                });

            migrationBuilder.CreateIndex(
                name: "ux_idp_intents_state_hash",
                table: "idp_intents",
                column: "state_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_idp_links_user_id",
                table: "idp_links",
                column: "user_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "idp_intents");

            migrationBuilder.DropTable(
                name: "idp_links");
        }
    }
}
