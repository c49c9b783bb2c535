// PrivateDirectory: a fresh directory only this user can enter (mode 0700, under the
// system's temporary directory), removed with everything in it when the object dies.
// Loading a .keras archive unpacks its weights there, out of every other path's way.
#pragma once

#include <string>

namespace trainyard::keras::saving {

class PrivateDirectory {
 public:
  // Creates it. Throws IOError when the temporary directory cannot take a new directory.
  PrivateDirectory();
  ~PrivateDirectory();
  PrivateDirectory(const PrivateDirectory&) = delete;
  PrivateDirectory& operator=(const PrivateDirectory&) = delete;

  const std::string& path() const { return path_; }
  // `name` inside it. REQUIRES: `name` is a plain file name chosen by trainyard.
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace trainyard::keras::saving
