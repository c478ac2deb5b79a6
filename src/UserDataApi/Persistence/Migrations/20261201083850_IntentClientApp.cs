using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace UserDataApi.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class IntentClientApp : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Intents started before this migration name no client app, so none can retrieve them:
            // they are at most Intents:LifetimeSeconds old, and their users sign in again.
            migrationBuilder.AddColumn<string>(
                name: "client_app_id",
                table: "idp_intents",
                type: "text",
                nullable: false,
                defaultValue: "");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "client_app_id",
                table: "idp_intents");
        }
    }
}
