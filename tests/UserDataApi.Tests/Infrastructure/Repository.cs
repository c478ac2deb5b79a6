namespace UserDataApi.Tests.Infrastructure;

/// <summary>The repository the tests were built from, for the files a newcomer would use (scripts, the .http file).</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "UserDataApi.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("The tests run outside the repository: no UserDataApi.sln above " + AppContext.BaseDirectory);
    }
}
