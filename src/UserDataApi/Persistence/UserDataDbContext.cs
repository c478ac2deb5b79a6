using Microsoft.EntityFrameworkCore;

namespace UserDataApi.Persistence;

/// <summary>The server's PostgreSQL database.</summary>
public sealed class UserDataDbContext(DbContextOptions<UserDataDbContext> options) : DbContext(options)
{
    public DbSet<UserDataRecord> Records => Set<UserDataRecord>();
    public DbSet<ServerKey> ServerKeys => Set<ServerKey>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<UserDataRecord>(record =>
        {
            record.ToTable("user_data_records");
            record.HasKey(r => r.Id);
            record.Property(r => r.Id).HasColumnName("id").UseIdentityAlwaysColumn();
            record.Property(r => r.UserId).HasColumnName("user_id");
            record.Property(r => r.IdentityProvider).HasColumnName("identity_provider");
            // Byte-wise order whatever the database's locale: shared-list-get pages by key.
            record.Property(r => r.Key).HasColumnName("value_key").UseCollation("C");
            record.Property(r => r.Value).HasColumnName("value_data");
            record.Property(r => r.AccessScope).HasColumnName("access_scope");
            record.Property(r => r.ClientAppId).HasColumnName("client_app_id");
            record.Property(r => r.CreatedAt).HasColumnName("created_at");
            record.Property(r => r.UpdatedAt).HasColumnName("updated_at");
            record.HasIndex(r => new { r.UserId, r.IdentityProvider, r.Key })
                .IsUnique()
                .HasDatabaseName("ux_user_data_records_user_idp_key");
        });

        modelBuilder.Entity<ServerKey>(key =>
        {
            key.ToTable("server_keys");
            key.HasKey(k => k.Name);
            key.Property(k => k.Name).HasColumnName("name");
            key.Property(k => k.Material).HasColumnName("material");
            key.Property(k => k.CreatedAt).HasColumnName("created_at");
        });
    }
}
