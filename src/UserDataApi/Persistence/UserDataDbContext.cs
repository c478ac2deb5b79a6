using Microsoft.EntityFrameworkCore;

namespace UserDataApi.Persistence;

/// <summary>The server's PostgreSQL database.</summary>
public sealed class UserDataDbContext(DbContextOptions<UserDataDbContext> options) : DbContext(options)
{
    public DbSet<UserDataRecord> Records => Set<UserDataRecord>();
    public DbSet<ServerKey> ServerKeys => Set<ServerKey>();
    public DbSet<IdpIntent> Intents => Set<IdpIntent>();
    public DbSet<IdpLink> Links => Set<IdpLink>();
    public DbSet<DataProtectionKeyRow> DataProtectionKeys => Set<DataProtectionKeyRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        // Columns are snake_case, as PostgreSQL users expect; the few exceptions are named below. (Not with
        // EFCore.NamingConventions: it renames the migrations history table's columns too, MigrationId to
        // migration_id, and an existing database would then look as if no migration had ever been applied.)
        foreach (var property in modelBuilder.Model.GetEntityTypes().SelectMany(e => e.GetProperties()))
        {
            property.SetColumnName(SnakeCase(property.Name));
        }

        modelBuilder.Entity<UserDataRecord>(record =>
        {
            // The families apart in the schema itself: only by-idp records name an identity provider.
            record.ToTable("user_data_records", table => table.HasCheckConstraint(
                "ck_user_data_records_family",
                "(family = 0 AND identity_provider <> '') OR (family IN (1, 2) AND identity_provider = '')"));
            record.HasKey(r => r.Id);
            record.Property(r => r.Id).UseIdentityAlwaysColumn();
            // Byte-wise order whatever the database's locale: shared-list-get pages by key.
            record.Property(r => r.Key).HasColumnName("value_key").UseCollation("C");
            record.Property(r => r.Value).HasColumnName("value_data");
            record.HasIndex(r => new { r.UserId, r.Family, r.IdentityProvider, r.Key })
                .IsUnique()
                .HasDatabaseName("ux_user_data_records_user_family_idp_key");
        });

        modelBuilder.Entity<ServerKey>(key =>
        {
            key.ToTable("server_keys");
            key.HasKey(k => k.Name);
        });

        modelBuilder.Entity<IdpIntent>(intent =>
        {
            intent.ToTable("idp_intents");
            intent.HasKey(i => i.Id);
            intent.Property(i => i.RawInformation).HasColumnType("jsonb");
            intent.HasIndex(i => i.StateHash).IsUnique().HasDatabaseName("ux_idp_intents_state_hash");
            intent.HasIndex(i => i.ExpiresAt).HasDatabaseName("ix_idp_intents_expires_at");
        });

        modelBuilder.Entity<DataProtectionKeyRow>(key =>
        {
            key.ToTable("data_protection_keys");
            key.HasKey(k => k.Id);
            key.Property(k => k.Id).UseIdentityAlwaysColumn();
        });

        modelBuilder.Entity<IdpLink>(link =>
        {
            link.ToTable("idp_links");
            link.HasKey(l => new { l.IdpId, l.LinkedUserId });
            link.HasIndex(l => l.UserId).HasDatabaseName("ix_idp_links_user_id");
        });
    }

    private static string SnakeCase(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
