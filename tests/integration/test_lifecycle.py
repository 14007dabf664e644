"""placeholder, being written."""
import harness

if __name__ == "__main__":
    harness.main()
