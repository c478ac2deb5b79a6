using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace UserDataApi.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class LdapAttributes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<byte[]>(
                name: "protected_ldap_attributes",
                table: "idp_intents",
                type: "bytea",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "protected_ldap_attributes",
                table: "idp_intents");
        }
    }
}
