namespace UserDataApi.Tests.Infrastructure;

/// <summary>Waiting for something the test cannot await, such as a batcher's first batch going out.</summary>
public static class Waits
{
    /// <summary>How long a test waits for an answer it awaits before it fails.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public static async Task UntilAsync(Func<bool> condition, string what = "the first batch to go out", int seconds = 20)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }
}
