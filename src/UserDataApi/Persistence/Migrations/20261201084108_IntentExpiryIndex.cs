using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace UserDataApi.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class IntentExpiryIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_idp_intents_expires_at",
                table: "idp_intents",
                column: "expires_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_idp_intents_expires_at",
                table: "idp_intents");
        }
    }
}
