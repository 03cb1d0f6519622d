// An error this device's own code raises for the person to read (a check that refused to go
// on): it carries its catalogue key, so shared/problems.js shows it in the active language;
// its message stays English, for the console.
export class Explained extends Error {
  name = "Explained";

  constructor(key, values = {}, english = key) {
    super(english);
    this.key = key;
    this.values = values;
  }
}
