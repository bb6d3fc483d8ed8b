"""What cyberlog derives from stored records: clusters of the same attack or event, and bursts."""
